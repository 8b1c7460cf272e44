// v4 quantize: measure per-tensor sensitivity on calibration text (cached as JSON), plan one type
// per tensor under a size budget, and write the quantized GGUF (docs/QUANTIZATION.md).
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#include "CliCommon.h"
#include "Commands.h"
#include "v4/model.h"
#include "v4/quantize.h"

namespace v4cli {

namespace {

constexpr int k_cache_version = 1;

std::string readText(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw FileError(path, v4::Error(v4::ErrorCode::io, std::string("cannot open: ") + std::strerror(errno)));
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

QJsonArray toJson(const std::vector<double> & v) {
    QJsonArray a;
    for (double x : v) {
        a.append(x);
    }
    return a;
}

std::vector<double> doubles(const QJsonValue & v) {
    std::vector<double> out;
    for (const QJsonValue & x : v.toArray()) {
        out.push_back(x.toDouble());
    }
    return out;
}

void saveCache(const v4::quantize_measurement & m, const std::string & path) {
    QJsonArray tensors;
    for (const v4::tensor_sensitivity & t : m.tensors) {
        QJsonArray types, bytes;
        for (size_t i = 0; i < t.types.size(); ++i) {
            types.append(QString::fromStdString(t.types[i]));
            bytes.append(static_cast<double>(t.bytes[i]));
        }
        QJsonObject o {{"name", QString::fromStdString(t.name)}, {"n_elements", static_cast<double>(t.n_elements)},
                       {"n_in", static_cast<double>(t.n_in)}, {"source_type", QString::fromStdString(t.source_type)},
                       {"types", types}, {"bytes", bytes}, {"proxy", toJson(t.proxy)}, {"kl", toJson(t.kl)},
                       {"kl_measured", toJson(t.kl_measured)}};
        tensors.append(o);
    }
    QJsonObject imatrix;
    for (const auto & [name, v] : m.imatrix) {
        QJsonArray a;
        for (float x : v) {
            a.append(static_cast<double>(x));
        }
        imatrix.insert(QString::fromStdString(name), a);
    }
    const QJsonObject root {{"version", k_cache_version}, {"model", QString::fromStdString(m.model_path)},
                            {"fingerprint", QString::fromStdString(m.fingerprint)}, {"n_tokens", m.n_tokens},
                            {"fixed_bytes", static_cast<double>(m.fixed_bytes)}, {"seconds", m.seconds},
                            {"tensors", tensors}, {"imatrix", imatrix}};
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(QJsonDocument(root).toJson(QJsonDocument::Compact)) < 0) {
        throw FileError(path, v4::Error(v4::ErrorCode::io, "cannot write: " + f.errorString().toStdString()));
    }
}

v4::quantize_measurement loadCache(const std::string & path, const std::string & fingerprint) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) {
        throw FileError(path, v4::Error(v4::ErrorCode::io, "cannot open (run with --measure first): " + f.errorString().toStdString()));
    }
    const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    if (root.value("version").toInt() != k_cache_version) {
        throw FileError(path, v4::Error(v4::ErrorCode::format, "not a v4 quantize measurement (version)"));
    }
    if (root.value("fingerprint").toString().toStdString() != fingerprint) {
        throw FileError(path, v4::Error(v4::ErrorCode::invalid_argument, "was measured on another model; measure again"));
    }
    v4::quantize_measurement m;
    m.model_path  = root.value("model").toString().toStdString();
    m.fingerprint = fingerprint;
    m.n_tokens    = root.value("n_tokens").toInt();
    m.fixed_bytes = static_cast<uint64_t>(root.value("fixed_bytes").toDouble());
    m.seconds     = root.value("seconds").toDouble();
    for (const QJsonValue & tv : root.value("tensors").toArray()) {
        const QJsonObject      o = tv.toObject();
        v4::tensor_sensitivity t;
        t.name        = o.value("name").toString().toStdString();
        t.n_elements  = static_cast<int64_t>(o.value("n_elements").toDouble());
        t.n_in        = static_cast<int64_t>(o.value("n_in").toDouble());
        t.source_type = o.value("source_type").toString().toStdString();
        for (const QJsonValue & x : o.value("types").toArray()) {
            t.types.push_back(x.toString().toStdString());
        }
        for (double b : doubles(o.value("bytes"))) {
            t.bytes.push_back(static_cast<uint64_t>(b));
        }
        t.proxy       = doubles(o.value("proxy"));
        t.kl          = doubles(o.value("kl"));
        t.kl_measured = doubles(o.value("kl_measured"));
        if (t.types.empty() || t.bytes.size() != t.types.size() || t.kl.size() != t.types.size()) {
            throw FileError(path, v4::Error(v4::ErrorCode::format, "tensor '" + t.name + "': inconsistent entry"));
        }
        m.tensors.push_back(std::move(t));
    }
    const QJsonObject im = root.value("imatrix").toObject();
    for (auto it = im.begin(); it != im.end(); ++it) {
        std::vector<float> v;
        for (const QJsonValue & x : it.value().toArray()) {
            v.push_back(static_cast<float>(x.toDouble()));
        }
        m.imatrix[it.key().toStdString()] = std::move(v);
    }
    return m;
}

// "180M", "1.5G", "123456" (K/M/G are powers of 1024), or the path of a GGUF file: the budget is
// then the bytes of that file's tensors, so that two files of the same size can be compared.
uint64_t parseBudget(const QString & text, uint64_t headerBytes) {
    if (QFile::exists(text)) {
        const std::string file = QFile::encodeName(text).toStdString();
        try {
            return v4::gguf_tensor_bytes(file);
        } catch (const v4::Error & e) {
            throw FileError(file, e);
        }
    }
    QString s    = text.trimmed().toUpper();
    double  mult = 1.0;
    if (s.endsWith('K') || s.endsWith('M') || s.endsWith('G')) {
        mult = s.endsWith('K') ? 1024.0 : s.endsWith('M') ? 1024.0 * 1024.0 : 1024.0 * 1024.0 * 1024.0;
        s.chop(1);
    }
    bool         ok = false;
    const double v  = s.toDouble(&ok);
    if (!ok || v <= 0) {
        throw UsageError("--target-size: '" + text.toStdString() + "' is neither a size (like 180M) nor a GGUF file");
    }
    const double bytes = v * mult;
    if (bytes <= static_cast<double>(headerBytes)) {
        throw UsageError("--target-size: smaller than the file's metadata alone");
    }
    return static_cast<uint64_t>(bytes) - headerBytes;
}

void printPlan(const v4::quantize_measurement & m, const v4::quantize_plan & p, bool verbose) {
    std::map<std::string, std::pair<int, uint64_t>> perType;
    for (const v4::tensor_sensitivity & t : m.tensors) {
        const std::string & type = p.type_of.at(t.name);
        const size_t        i    = static_cast<size_t>(std::find(t.types.begin(), t.types.end(), type) - t.types.begin());
        perType[type].first += 1;
        perType[type].second += t.bytes[i];
        if (verbose) {
            std::printf("  %-32s %-6s %10.3f MiB  est. KL %.6f\n", t.name.c_str(), type.c_str(), t.bytes[i] / 1048576.0, t.kl[i]);
        }
    }
    for (const auto & [type, c] : perType) {
        std::printf("  %-6s %4d tensors %10.2f MiB\n", type.c_str(), c.first, c.second / 1048576.0);
    }
    std::printf("plan: %.2f MiB of tensors, %.3f bits per weight (planned tensors), estimated KL %.5f nats/token\n",
                p.tensor_bytes / 1048576.0, p.bits_per_weight, p.estimated_kl);
}

} // namespace

int quantizeCommand(const QStringList & args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Measure per-tensor quantization sensitivity and write a GGUF with one type per tensor under a size budget."));
    addModelOptions(parser, 0);
    parser.addOptions({
        {QStringLiteral("measure"), QStringLiteral("Measure sensitivity on the calibration text (-f) and save it to --cache.")},
        {{QStringLiteral("f"), QStringLiteral("file")}, QStringLiteral("Calibration text (UTF-8)."), QStringLiteral("TEXT")},
        {QStringLiteral("tokens"), QStringLiteral("Calibration tokens (default 256)."), QStringLiteral("N"), QStringLiteral("256")},
        {QStringLiteral("validate"), QStringLiteral("Also measure the KL of every candidate for N tensors."), QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("cache"), QStringLiteral("Measurement file (default: MODEL.v4quant.json)."), QStringLiteral("FILE")},
        {QStringLiteral("target-size"), QStringLiteral("Tensor bytes budget: 180M, 1.5G, or a GGUF file to match."), QStringLiteral("SIZE")},
        {QStringLiteral("target-bpw"), QStringLiteral("Budget in bits per weight of the planned tensors."), QStringLiteral("B")},
        {QStringLiteral("rule"), QStringLiteral("A fixed plan instead of a budget: q4_k_m, or one type for all (q8_0, q4_K, ...)."), QStringLiteral("RULE")},
        {{QStringLiteral("o"), QStringLiteral("output")}, QStringLiteral("Write the quantized GGUF here."), QStringLiteral("OUT.gguf")},
        {QStringLiteral("show-plan"), QStringLiteral("Print the type of every tensor.")},
    });
    if (!parseCommandLine(parser, args, QStringLiteral(
            "v4 quantize -m MODEL [--measure -f CALIB.txt [--tokens 256]] [--cache FILE] "
            "[--target-size SIZE | --target-bpw B | --rule q4_k_m] [-o OUT.gguf]"))) {
        return k_exit_ok;
    }
    const int nTargets = (parser.isSet("target-size") ? 1 : 0) + (parser.isSet("target-bpw") ? 1 : 0) + (parser.isSet("rule") ? 1 : 0);
    if (nTargets > 1) {
        throw UsageError("--target-size, --target-bpw and --rule exclude each other");
    }
    if (!parser.isSet("measure") && nTargets == 0) {
        throw UsageError("nothing to do: give --measure and/or a target (--target-size, --target-bpw, --rule)");
    }
    if (parser.isSet("measure") && !parser.isSet("file")) {
        throw UsageError("--measure needs the calibration text: -f CALIB.txt");
    }
    if (nTargets == 1 && !parser.isSet("output")) {
        throw UsageError("a target needs the output file: -o OUT.gguf");
    }
    const int         threads = threadCount(parser);
    const std::string path    = modelPath(parser);
    const std::string cache   = parser.isSet("cache") ? QFile::encodeName(parser.value("cache")).toStdString() : path + ".v4quant.json";
    setupCliLogging(parser.isSet(QStringLiteral("verbose")));
    const auto model = loadModel(path, threads);

    auto progress = [](int done, int total, const std::string & what) {
        std::fprintf(stderr, "\r[%d/%d] %-40s", done, total, what.c_str());
        std::fflush(stderr);
        return !interrupted();
    };

    v4::quantize_measurement m;
    if (parser.isSet("measure")) {
        v4::measure_params mp;
        mp.threads          = threads;
        mp.n_tokens         = intValue(parser, "tokens", 16, 1 << 16);
        mp.validate_tensors = intValue(parser, "validate", 0, 1 << 16);
        mp.progress         = progress;
        const std::string calib = readText(QFile::encodeName(parser.value("file")).toStdString());
        try {
            m = v4::measure_sensitivity(path, calib, mp);
        } catch (const v4::Error & e) {
            throw FileError(path, e);
        }
        std::fprintf(stderr, "\n");
        saveCache(m, cache);
        std::printf("measured %zu tensors on %d calibration tokens in %.1f s (%d threads); saved %s\n", m.tensors.size(),
                    m.n_tokens, m.seconds, threads, cache.c_str());
    } else if (parser.isSet("rule") && !QFile::exists(QString::fromStdString(cache))) {
        m = v4::describe_tensors(path); // a fixed rule needs no measurement (no importance matrix then)
    } else {
        m = loadCache(cache, model->info().fingerprint);
    }
    if (nTargets == 0) {
        return k_exit_ok;
    }

    v4::quantize_plan plan;
    if (parser.isSet("rule")) {
        const std::string rule = parser.value("rule").toStdString();
        plan = rule == "q4_k_m" ? v4::plan_q4_k_m_rule(m, static_cast<int>(model->info().n_layers)) : v4::plan_uniform(m, rule);
    } else {
        const uint64_t header = model->info().file_size - model->info().weight_bytes;
        const uint64_t budget = parser.isSet("target-size")
                                    ? parseBudget(parser.value("target-size"), header)
                                    : v4::budget_for_bpw(m, doubleValue(parser, "target-bpw", 1.0, 32.0));
        plan = v4::plan_for_budget(m, budget);
        std::printf("budget: %.2f MiB of tensors\n", budget / 1048576.0);
    }
    printPlan(m, plan, parser.isSet("show-plan"));

    const std::string out = QFile::encodeName(parser.value("output")).toStdString();
    Stopwatch         clock;
    v4::write_params  wp;
    wp.threads  = threads;
    wp.progress = progress;
    try {
        v4::write_quantized(path, out, plan, &m.imatrix, wp);
    } catch (const v4::Error & e) {
        throw FileError(out, e);
    }
    std::fprintf(stderr, "\n");
    std::printf("wrote %s in %.1f s\n", out.c_str(), clock.seconds());
    return k_exit_ok;
}

} // namespace v4cli
