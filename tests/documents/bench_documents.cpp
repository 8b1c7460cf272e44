// Not a test: builds a ~1M-token corpus from the text files under /usr/share/doc and
// /usr/share/common-licenses (.gz files are decompressed with gzip -dc), imports it into a fresh
// documents.sqlite3 and reports import time, database size and FTS query latency
// (docs/notes-documents.md). Tokens are estimated as UTF-8 bytes / 4 (ApproximateTokenCounter).
// Usage: bench_documents [target_tokens=1000000] [work_dir=a temporary folder]
#include "documents/DocumentStore.h"
#include "documents/TextDecoding.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>

using namespace v4app::documents;

namespace {

QByteArray readMaybeGzipped(const QString & path) {
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

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char ** argv) {
    QCoreApplication app(argc, argv);
    const qint64     targetTokens = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1000000;
    QTemporaryDir    tmp;
    const QString    work = argc > 2 ? QString::fromLocal8Bit(argv[2]) : tmp.path();
    QDir().mkpath(work + QStringLiteral("/corpus"));

    // 1. Corpus: unique text files (by content) until the token target is reached. Sorted paths so
    // two runs on the same machine pick the same files.
    QElapsedTimer collect;
    collect.start();
    QStringList candidates;
    for (const QString & root : {QStringLiteral("/usr/share/common-licenses"), QStringLiteral("/usr/share/doc")}) {
        QDirIterator it(root, QDir::Files | QDir::NoSymLinks, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            candidates.append(it.next());
        }
    }
    std::sort(candidates.begin(), candidates.end());
    QSet<QByteArray> seen;
    qint64           bytes = 0;
    int              files = 0;
    for (const QString & path : candidates) {
        if (bytes / 4 >= targetTokens) {
            break;
        }
        const QString lower = path.toLower();
        if (lower.endsWith(QStringLiteral(".html")) || lower.endsWith(QStringLiteral(".pdf")) ||
            lower.endsWith(QStringLiteral(".png")) || lower.endsWith(QStringLiteral(".jpg")) ||
            lower.endsWith(QStringLiteral(".svg")) || lower.endsWith(QStringLiteral(".css")) ||
            lower.endsWith(QStringLiteral(".js")) || QFileInfo(path).size() > 4 * 1024 * 1024) {
            continue;
        }
        const QByteArray text = readMaybeGzipped(path);
        if (text.size() < 64 || looksBinary(text) || !isValidUtf8(text.constData(), text.size())) {
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
        QFile out(QStringLiteral("%1/corpus/%2.txt").arg(work, name));
        if (!out.open(QIODevice::WriteOnly) || out.write(text) != text.size()) {
            continue;
        }
        bytes += text.size();
        ++files;
    }
    std::printf("corpus: %d files, %.1f MB, ~%lld tokens (bytes/4), collected in %.1f s\n", files,
                double(bytes) / 1e6, bytes / 4, collect.elapsed() / 1000.0);

    // 2. Import.
    const QString dbPath = work + QStringLiteral("/bench-documents.sqlite3");
    for (const char * suffix : {"", "-wal", "-shm"}) {
        QFile::remove(dbPath + QLatin1String(suffix));
    }
    qint64 chunks = 0;
    {
        auto store = DocumentStore::open(dbPath);
        if (!store) {
            std::fprintf(stderr, "%s\n", qPrintable(store.error().message));
            return 1;
        }
        const QStringList corpus = QDir(work + QStringLiteral("/corpus")).entryList(QDir::Files, QDir::Name);
        QElapsedTimer     timer;
        timer.start();
        int failed = 0;
        for (const QString & name : corpus) {
            auto r = store.value()->importFile(work + QStringLiteral("/corpus/") + name);
            if (!r) {
                ++failed;
                continue;
            }
            chunks += r->chunkCount;
        }
        const double importS = timer.elapsed() / 1000.0;
        std::printf("import: %lld documents, %lld chunks in %.2f s (%.1f MB/s), %d refused\n",
                    qint64(corpus.size() - failed), chunks, importS, double(bytes) / 1e6 / importS, failed);

        // 3. Queries: single common words, rare words, phrases of several words, nonsense.
        const QStringList queries = {
            "license", "copyright", "warranty", "free software", "GNU General Public License", "redistribute",
            "patent", "merchantability fitness", "debian", "maintainer", "changelog", "bug fix", "security",
            "upstream", "version", "documentation", "library", "python", "perl module", "compiler",
            "kernel", "network", "configuration file", "install", "permission notice", "source code",
            "binary form", "liability", "contributors", "Apache", "BSD", "MIT", "Artistic", "zlib",
            "unicode", "locale", "memory leak", "segmentation fault", "thread safe", "regression",
            "deprecated", "API", "manual page", "example usage", "environment variable", "xyzzyplugh",
            "the", "and of to", "Software Foundation", "without any warranty"};
        std::vector<double> allWords;
        std::vector<double> anyWord;
        int                 hits = 0;
        for (const QString & q : queries) {
            QElapsedTimer t;
            t.start();
            auto r = store.value()->search(q, 10);
            allWords.push_back(t.nsecsElapsed() / 1e6);
            hits += r ? int(r->size()) : 0;
            t.restart();
            auto r2 = store.value()->search(q, 10, {MatchMode::AnyWord, 0});
            anyWord.push_back(t.nsecsElapsed() / 1e6);
        }
        std::printf("search (top 10, %lld queries): AllWords median %.2f ms, max %.2f ms; AnyWord median %.2f ms, "
                    "max %.2f ms; %d hits\n",
                    qint64(queries.size()), median(allWords), *std::max_element(allWords.begin(), allWords.end()),
                    median(anyWord), *std::max_element(anyWord.begin(), anyWord.end()), hits);

        ApproximateTokenCounter counter;
        std::vector<double>     assemble;
        for (int pass = 0; pass < 2; ++pass) {
            assemble.clear();
            for (const QString & q : queries) {
                QElapsedTimer t;
                t.start();
                auto ctx = store.value()->assembleContext(q, 8000, counter);
                assemble.push_back(t.nsecsElapsed() / 1e6);
            }
            std::printf("assembleContext (8000-token budget, 64 candidates, %s cache): median %.2f ms, max %.2f ms\n",
                        pass == 0 ? "cold" : "warm", median(assemble), *std::max_element(assemble.begin(), assemble.end()));
        }
    }
    std::printf("database: %.1f MB (%s, after close)\n", double(QFileInfo(dbPath).size()) / 1e6, qPrintable(dbPath));
    return 0;
}
