// A reproducible corpus of mixed text and code from this machine, for the documents benchmark and
// the real-model retrieval test: licences (/usr/share/common-licenses), package documentation
// (/usr/share/doc), man pages (/usr/share/man, troff source) and C headers (/usr/include), taken in
// turn from each root (sorted paths, so two runs pick the same files) until bytes / 4 reaches the
// token target. .gz files go through gzip -dc; HTML, PDF, images, > 4 MB, binary, invalid UTF-8
// and duplicate contents (SHA-256) are skipped. Files are copied to <dir> as <path_with_underscores>.txt
// (code keeps its extension so the importer sees it as code).
#pragma once

#include "documents/TextDecoding.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSet>

#include <algorithm>

namespace v4test {

struct Corpus {
    QStringList files; // copies under the corpus folder
    qint64      bytes = 0;
};

inline QByteArray readMaybeGzipped(const QString & path) {
    if (path.endsWith(QStringLiteral(".gz"))) {
        QProcess gzip;
        gzip.start(QStringLiteral("gzip"), {QStringLiteral("-dc"), path});
        if (!gzip.waitForFinished(10000) || gzip.exitCode() != 0) {
            return {};
        }
        return gzip.readAllStandardOutput();
    }
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline Corpus collectCorpus(const QString & dir, qint64 targetTokens) {
    QDir().mkpath(dir);
    const QStringList roots = {QStringLiteral("/usr/share/common-licenses"), QStringLiteral("/usr/share/doc"),
                               QStringLiteral("/usr/share/man/man1"), QStringLiteral("/usr/include")};
    QList<QStringList> perRoot;
    for (const QString & root : roots) {
        QStringList  paths;
        QDirIterator it(root, QDir::Files | QDir::NoSymLinks, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            paths.append(it.next());
        }
        std::sort(paths.begin(), paths.end());
        perRoot.append(paths);
    }
    static const QStringList kSkip = {".html", ".pdf", ".png", ".jpg", ".svg", ".css", ".js", ".gif"};
    Corpus           corpus;
    QSet<QByteArray> seen;
    for (qsizetype i = 0; corpus.bytes / 4 < targetTokens; ++i) {
        bool any = false;
        for (const QStringList & paths : perRoot) {
            if (i >= paths.size() || corpus.bytes / 4 >= targetTokens) {
                continue;
            }
            any                 = true;
            const QString path  = paths[i];
            const QString lower = path.toLower();
            if (std::any_of(kSkip.cbegin(), kSkip.cend(), [&](const QString & s) { return lower.endsWith(s); }) ||
                QFileInfo(path).size() > 4 * 1024 * 1024) {
                continue;
            }
            const QByteArray text = readMaybeGzipped(path);
            if (text.size() < 64 || v4app::documents::looksBinary(text) ||
                !v4app::documents::isValidUtf8(text.constData(), text.size())) {
                continue;
            }
            const QByteArray hash = QCryptographicHash::hash(text, QCryptographicHash::Sha256);
            if (seen.contains(hash)) {
                continue;
            }
            seen.insert(hash);
            QString name = path.mid(1).replace(u'/', u'_');
            if (name.endsWith(QStringLiteral(".gz"))) {
                name.chop(3);
            }
            if (!name.endsWith(QStringLiteral(".h"))) {
                name += QStringLiteral(".txt");
            }
            QFile out(dir + u'/' + name);
            if (!out.open(QIODevice::WriteOnly) || out.write(text) != text.size()) {
                continue;
            }
            corpus.files.append(out.fileName());
            corpus.bytes += text.size();
        }
        if (!any) {
            break;
        }
    }
    return corpus;
}

} // namespace v4test
