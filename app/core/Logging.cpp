#include "core/Logging.h"

#include <QDir>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/AppPaths.h"
#include "v4/log.h"

namespace v4app {

namespace {

void qtMessageToSpdlog(QtMsgType type, const QMessageLogContext & context, const QString & message) {
    const QByteArray text = message.toUtf8();
    const char *     category = context.category ? context.category : "qt";
    switch (type) {
        case QtDebugMsg:    spdlog::debug("[{}] {}", category, text.constData()); break;
        case QtInfoMsg:     spdlog::info("[{}] {}", category, text.constData()); break;
        case QtWarningMsg:  spdlog::warn("[{}] {}", category, text.constData()); break;
        case QtCriticalMsg: spdlog::error("[{}] {}", category, text.constData()); break;
        case QtFatalMsg:    spdlog::critical("[{}] {}", category, text.constData()); spdlog::shutdown(); std::abort();
    }
}

} // namespace

QString setupLogging(const LoggingOptions & options) {
    std::vector<spdlog::sink_ptr> sinks;
    if (options.console) {
        auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        console->set_level(options.verbose ? spdlog::level::debug : spdlog::level::info);
        console->set_pattern("%^%L%$ %v");
        sinks.push_back(console);
    }

    QString logPath;
    if (options.file) {
        const QString dir = AppPaths::logsDir();
        if (QDir().mkpath(dir)) {
            logPath = dir + QLatin1Char('/') + options.logName + QStringLiteral(".log");
            try {
                auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(logPath.toStdString(),
                                                                                   5 * 1024 * 1024, 5);
                file->set_level(spdlog::level::debug);
                file->set_pattern("%Y-%m-%d %H:%M:%S.%e [%t] %l %v");
                sinks.push_back(file);
            } catch (const spdlog::spdlog_ex & e) {
                logPath.clear();
                fprintf(stderr, "W cannot open the log file in %s: %s\n", qPrintable(dir), e.what());
            }
        }
    }

    auto logger = std::make_shared<spdlog::logger>(options.logName.toStdString(), sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::debug);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    // The file keeps debug detail; the console shows what --verbose asks for (sink levels above).
    v4::set_log_sinks(sinks, spdlog::level::debug);
    qInstallMessageHandler(qtMessageToSpdlog);
    return logPath;
}

} // namespace v4app
