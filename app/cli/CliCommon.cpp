#include "CliCommon.h"

#include <QFile>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>
#include <unistd.h>

#include <sys/resource.h>

#include "core/AppPaths.h"
#include "core/Logging.h"
#include "v4/tokenizer.h"

namespace v4cli {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onSigint(int) {
    if (g_interrupted.exchange(true)) {
        _exit(k_exit_interrupted); // second Ctrl+C: the user really wants out
    }
}

} // namespace

void installInterruptHandler() {
    struct sigaction sa {};
    sa.sa_handler = onSigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
}

const std::atomic<bool> * interruptFlag() { return &g_interrupted; }
bool interrupted() { return g_interrupted.load(); }

QString defaultModelPath() { return v4app::AppPaths::defaultModelPath(); }

void setupCliLogging(bool verbose) {
    v4app::LoggingOptions options;
    options.logName = QStringLiteral("v4");
    options.verbose = verbose;
    options.console = verbose; // stdout carries the answer; stderr stays quiet unless asked
    options.file    = true;
    v4app::setupLogging(options);
}

bool parseCommandLine(QCommandLineParser & parser, const QStringList & args, const QString & usage) {
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    parser.addOption(help);
    if (!parser.parse(args)) {
        throw UsageError(parser.errorText().toStdString() + " (see 'v4 " + args.first().toStdString() + " --help')");
    }
    if (parser.isSet(help)) {
        // Qt's own first line names the executable's full path; ours names the command.
        QString text = parser.helpText();
        const qsizetype eol = text.indexOf(QLatin1Char('\n'));
        text = QStringLiteral("Usage: ") + usage + (eol >= 0 ? text.mid(eol) : QString());
        std::fputs(qPrintable(text), stdout);
        return false;
    }
    return true;
}

int intValue(const QCommandLineParser & parser, const QString & name, int min, int max) {
    bool       ok = false;
    const int  v  = parser.value(name).toInt(&ok);
    if (!ok || v < min || v > max) {
        throw UsageError(QStringLiteral("--%1 wants an integer in [%2, %3], got '%4'")
                             .arg(name).arg(min).arg(max).arg(parser.value(name)).toStdString());
    }
    return v;
}

double doubleValue(const QCommandLineParser & parser, const QString & name, double min, double max) {
    bool         ok = false;
    const double v  = parser.value(name).toDouble(&ok);
    if (!ok || !(v >= min && v <= max)) {
        throw UsageError(QStringLiteral("--%1 wants a number in [%2, %3], got '%4'")
                             .arg(name).arg(min).arg(max).arg(parser.value(name)).toStdString());
    }
    return v;
}

uint64_t u64Value(const QCommandLineParser & parser, const QString & name) {
    bool           ok = false;
    const uint64_t v  = parser.value(name).toULongLong(&ok);
    if (!ok) {
        throw UsageError(QStringLiteral("--%1 wants a non-negative integer, got '%2'")
                             .arg(name, parser.value(name)).toStdString());
    }
    return v;
}

void addModelOptions(QCommandLineParser & parser, int defaultCtx) {
    parser.addOptions({
        {{QStringLiteral("m"), QStringLiteral("model")}, QStringLiteral("GGUF model file (default: the default model)."),
         QStringLiteral("FILE"), defaultModelPath()},
        {{QStringLiteral("t"), QStringLiteral("threads")}, QStringLiteral("CPU threads; 0: all cores (default 0)."),
         QStringLiteral("N"), QStringLiteral("0")},
        {{QStringLiteral("c"), QStringLiteral("ctx")}, QStringLiteral("Context window in tokens; 0: the model's (default %1).").arg(defaultCtx),
         QStringLiteral("N"), QString::number(defaultCtx)},
        {{QStringLiteral("v"), QStringLiteral("verbose")}, QStringLiteral("Print statistics and debug logs to stderr.")},
    });
}

void addSamplingOptions(QCommandLineParser & parser) {
    const v4::sampler_params d = v4::sampler_default_params();
    parser.addOptions({
        {QStringLiteral("temp"), QStringLiteral("Temperature; 0: greedy (default %1).").arg(d.temperature),
         QStringLiteral("T"), QString::number(d.temperature)},
        {QStringLiteral("top-k"), QStringLiteral("Keep the K most likely tokens; 0: off (default %1).").arg(d.top_k),
         QStringLiteral("K"), QString::number(d.top_k)},
        {QStringLiteral("top-p"), QStringLiteral("Nucleus: keep the smallest set with mass P; 1: off (default %1).").arg(d.top_p),
         QStringLiteral("P"), QString::number(d.top_p)},
        {QStringLiteral("min-p"), QStringLiteral("Keep tokens with p >= P * p_max; 0: off (default %1).").arg(d.min_p),
         QStringLiteral("P"), QString::number(d.min_p)},
        {QStringLiteral("repeat-penalty"), QStringLiteral("Repetition penalty; 1: off (default %1).").arg(d.repetition_penalty),
         QStringLiteral("R"), QString::number(d.repetition_penalty)},
        {QStringLiteral("repeat-last-n"), QStringLiteral("Tokens the penalties look back over (default %1).").arg(d.penalty_last_n),
         QStringLiteral("N"), QString::number(d.penalty_last_n)},
        {QStringLiteral("presence-penalty"), QStringLiteral("Presence penalty (default 0)."), QStringLiteral("X"), QStringLiteral("0")},
        {QStringLiteral("frequency-penalty"), QStringLiteral("Frequency penalty (default 0)."), QStringLiteral("X"), QStringLiteral("0")},
        {QStringLiteral("seed"), QStringLiteral("Random seed: the same seed gives the same reply (default: random)."),
         QStringLiteral("S")},
    });
}

v4::sampler_params samplingParams(const QCommandLineParser & parser) {
    v4::sampler_params p  = v4::sampler_default_params();
    p.temperature         = static_cast<float>(doubleValue(parser, QStringLiteral("temp"), 0.0, 100.0));
    p.top_k               = intValue(parser, QStringLiteral("top-k"), 0, 1 << 30);
    p.top_p               = static_cast<float>(doubleValue(parser, QStringLiteral("top-p"), 0.0, 1.0));
    p.min_p               = static_cast<float>(doubleValue(parser, QStringLiteral("min-p"), 0.0, 1.0));
    p.repetition_penalty  = static_cast<float>(doubleValue(parser, QStringLiteral("repeat-penalty"), 0.0, 10.0));
    p.penalty_last_n      = intValue(parser, QStringLiteral("repeat-last-n"), -1, 1 << 20);
    p.presence_penalty    = static_cast<float>(doubleValue(parser, QStringLiteral("presence-penalty"), -10.0, 10.0));
    p.frequency_penalty   = static_cast<float>(doubleValue(parser, QStringLiteral("frequency-penalty"), -10.0, 10.0));
    if (parser.isSet(QStringLiteral("seed"))) {
        p.seed = u64Value(parser, QStringLiteral("seed"));
    } else {
        p.seed = std::random_device{}();
    }
    return p;
}

std::string modelPath(const QCommandLineParser & parser) {
    return QFile::encodeName(parser.value(QStringLiteral("model"))).toStdString();
}

int threadCount(const QCommandLineParser & parser) {
    return intValue(parser, QStringLiteral("threads"), 0, 1024);
}

std::shared_ptr<const v4::model> loadModel(const std::string & path, int threads) {
    v4::load_params lp;
    lp.threads  = threads;
    lp.progress = [](float) { return !interrupted(); };
    try {
        return v4::model::load(path, lp);
    } catch (const v4::Error & e) {
        throw FileError(path, e);
    }
}

v4::tokenizer openTokenizer(const std::string & path) {
    try {
        return v4::tokenizer::open(path);
    } catch (const v4::Error & e) {
        throw FileError(path, e);
    }
}

void writeOut(std::string_view text) {
    if (!text.empty()) {
        std::fwrite(text.data(), 1, text.size(), stdout);
    }
    std::fflush(stdout);
}

uint64_t peakRssBytes() {
    std::ifstream status("/proc/self/status");
    std::string   line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stoull(line.substr(6)) * 1024; // "VmHWM:   123456 kB"
        }
    }
    rusage ru {};
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        return static_cast<uint64_t>(ru.ru_maxrss) * 1024; // kilobytes on Linux
    }
    return 0;
}

} // namespace v4cli
