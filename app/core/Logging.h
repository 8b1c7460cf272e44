// Logging for the app and the CLI: spdlog with a console sink (stderr) and a rotating file under
// the app data folder (logs/<name>.log, 5 files of 5 MB). The engine's logger and Qt's own
// messages (qDebug/qWarning/...) go to the same sinks. --verbose lowers the level to debug.
#pragma once

#include <QString>

namespace v4app {

struct LoggingOptions {
    QString logName = QStringLiteral("v4chat"); // file name without .log
    bool    verbose = false;
    bool    console = true;
    bool    file    = true;
};

// Returns the log file path, or an empty string when only the console is used (e.g. the data
// folder is not writable: that is reported on the console, not fatal).
QString setupLogging(const LoggingOptions & options);

} // namespace v4app
