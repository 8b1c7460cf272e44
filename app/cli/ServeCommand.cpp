// v4 serve: the OpenAI-compatible local server (app/server/ApiServer.h, docs/notes-server.md).
// Loads the model once, gives each worker its own chat_runner over the shared weights, prints the
// URL and serves until SIGINT or SIGTERM, then stops taking requests, cancels the running ones
// and joins the workers.
#include <QCoreApplication>
#include <QFileInfo>
#include <QTimer>

#include <csignal>
#include <cstdio>

#include "CliCommon.h"
#include "Commands.h"
#include "core/Logging.h"
#include "server/ApiServer.h"
#include "server/CompletionSource.h"

namespace v4cli {

namespace {

std::atomic<bool> g_terminate{false};

extern "C" void onSigterm(int) { g_terminate.store(true); }

} // namespace

int serveCommand(const QStringList & args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Serve the model over an OpenAI-compatible HTTP API "
                                                    "(/v1/chat/completions, /v1/models, /health)."));
    addModelOptions(parser, 8192);
    parser.addOptions({
        {QStringLiteral("host"), QStringLiteral("Address to listen on (default 127.0.0.1; 0.0.0.0 exposes it to the network)."),
         QStringLiteral("ADDR"), QStringLiteral("127.0.0.1")},
        {QStringLiteral("port"), QStringLiteral("TCP port; 0: any free port (default 8080)."), QStringLiteral("PORT"),
         QStringLiteral("8080")},
        {QStringLiteral("api-key"), QStringLiteral("Require 'Authorization: Bearer KEY' (or set V4_API_KEY)."),
         QStringLiteral("KEY")},
        {QStringLiteral("alias"), QStringLiteral("Model id shown by /v1/models (default: the file name without .gguf)."),
         QStringLiteral("NAME")},
        {QStringLiteral("parallel"), QStringLiteral("Requests generated at once, each with its own context (default 1)."),
         QStringLiteral("N"), QStringLiteral("1")},
        {QStringLiteral("max-queue"), QStringLiteral("Requests allowed to wait before 429 (default 16)."), QStringLiteral("N"),
         QStringLiteral("16")},
    });
    if (!parseCommandLine(parser, args, QStringLiteral("v4 serve [-m FILE] [--host ADDR] [--port PORT] [--api-key KEY] [options]"))) {
        return k_exit_ok;
    }
    if (!parser.positionalArguments().isEmpty()) {
        throw UsageError("takes no positional arguments");
    }
    v4app::ApiServerSettings settings;
    settings.host      = parser.value(QStringLiteral("host"));
    settings.port      = static_cast<quint16>(intValue(parser, QStringLiteral("port"), 0, 65535));
    settings.apiKey    = parser.isSet(QStringLiteral("api-key")) ? parser.value(QStringLiteral("api-key"))
                                                                 : qEnvironmentVariable("V4_API_KEY");
    settings.maxQueued = intValue(parser, QStringLiteral("max-queue"), 0, 1 << 16);
    const int  parallel = intValue(parser, QStringLiteral("parallel"), 1, 64);
    const int  nCtx     = intValue(parser, QStringLiteral("ctx"), 0, 1 << 24);
    const int  threads  = threadCount(parser);
    const bool verbose  = parser.isSet(QStringLiteral("verbose"));

    v4app::LoggingOptions logging;
    logging.logName = QStringLiteral("v4-serve");
    logging.verbose = verbose;
    logging.console = true; // a server's log is its console output
    v4app::setupLogging(logging);

    const std::string path  = modelPath(parser);
    const QString     id    = parser.isSet(QStringLiteral("alias")) ? parser.value(QStringLiteral("alias"))
                                                                    : QFileInfo(QString::fromStdString(path)).completeBaseName();
    const auto        model = loadModel(path, threads);
    v4::session_params sp;
    sp.n_ctx     = static_cast<uint32_t>(nCtx);
    sp.n_threads = threads;
    std::vector<std::unique_ptr<v4app::CompletionSource>> sources;
    try {
        for (int i = 0; i < parallel; ++i) {
            sources.push_back(std::make_unique<v4app::ChatRunnerSource>(model, sp, id));
        }
    } catch (const v4::Error & e) {
        throw FileError(path, e);
    }

    v4app::ApiServer server(settings, std::move(sources));
    QString          error;
    if (!server.listen(&error)) {
        std::fprintf(stderr, "v4: cannot listen on %s:%d: %s\n", qPrintable(settings.host), settings.port, qPrintable(error));
        return k_exit_error;
    }
    std::printf("v4 serve: %s on %s/v1 (Ctrl+C to stop)\n", qPrintable(id), qPrintable(server.baseUrl().toString()));
    std::fflush(stdout);

    struct sigaction sa {};
    sa.sa_handler = onSigterm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    // Signal handlers may only set flags; the event loop looks at them ten times a second.
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, [] {
        if (interrupted() || g_terminate.load()) {
            QCoreApplication::quit();
        }
    });
    poll.start(100);
    QCoreApplication::exec();

    std::fprintf(stderr, "v4 serve: shutting down\n");
    server.close();
    return k_exit_ok;
}

} // namespace v4cli
