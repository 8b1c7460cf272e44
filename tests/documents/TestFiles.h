// Writes a small input file for a documents test (aborts the test run when it cannot: nothing
// after it would mean anything).
#pragma once

#include <QFile>
#include <QTemporaryDir>

namespace v4test {

inline QString writeFile(const QTemporaryDir & dir, const QString & name, const QByteArray & bytes) {
    const QString path = dir.filePath(name);
    QFile         f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) {
        qFatal("cannot write %s", qPrintable(path));
    }
    return path;
}

} // namespace v4test
