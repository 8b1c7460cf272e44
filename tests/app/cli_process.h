// Runs the built v4 binary (V4_CLI_PATH) in a private data folder and collects its output.
#pragma once

#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <QTemporaryDir>
#include <QTest>

namespace v4test {

struct CliResult {
    int        exitCode = -1;
    bool       finished = false;
    QByteArray out;
    QByteArray err;
};

inline CliResult runCli(const QStringList & args, const QByteArray & input = {}, int timeoutMs = 120000) {
    static QTemporaryDir dataDir; // logs land here, not in the user's data folder
    QProcess             p;
    QProcessEnvironment  env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("V4_DATA_DIR"), dataDir.path());
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(V4_CLI_PATH), args);
    CliResult r;
    if (!p.waitForStarted(10000)) {
        return r;
    }
    if (!input.isEmpty()) {
        p.write(input);
    }
    p.closeWriteChannel();
    r.finished = p.waitForFinished(timeoutMs);
    if (!r.finished) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out      = p.readAllStandardOutput();
    r.err      = p.readAllStandardError();
    return r;
}

} // namespace v4test
