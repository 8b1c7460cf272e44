// Not a test: builds a ~1M-token corpus of mixed text and code (TestCorpus.h), imports it into a fresh
// documents.sqlite3 and reports import time, database size and FTS query latency
// (docs/notes-documents.md). Tokens are estimated as UTF-8 bytes / 4 (ApproximateTokenCounter).
// Usage: bench_documents [target_tokens=1000000] [work_dir=a temporary folder]
#include "documents/DocumentStore.h"
#include "documents/EngineTokenCounter.h"
#include "TestCorpus.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>

using namespace v4app::documents;

namespace {

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

    // 1. Corpus: mixed text and code (TestCorpus.h).
    QElapsedTimer collect;
    collect.start();
    const v4test::Corpus collected = v4test::collectCorpus(work + QStringLiteral("/corpus"), targetTokens);
    const qint64         bytes     = collected.bytes;
    std::printf("corpus: %lld files, %.1f MB, ~%lld tokens (bytes/4), collected in %.1f s\n", qint64(collected.files.size()),
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
        const QStringList & corpus = collected.files;
        QElapsedTimer     timer;
        timer.start();
        int failed = 0;
        for (const QString & name : corpus) {
            auto r = store.value()->importFile(name);
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

        // Exact tokens with the default model's tokenizer: counted once into the cache, then read back.
        const QString model = QDir::homePath() + QStringLiteral("/.local/share/v4chat/models/gemma-3-270m-q4_k_m.gguf");
        QString       error;
        if (auto gemma = EngineTokenCounter::open(model, &error)) {
            for (int pass = 0; pass < 2; ++pass) {
                QElapsedTimer t;
                t.start();
                qint64     tokens = 0;
                const auto docs   = store.value()->documents();
                for (const DocumentInfo & d : docs.value()) {
                    tokens += store.value()->documentTokens(d.id, *gemma).value();
                }
                std::printf("Gemma 3 tokens: %lld (%s, %.2f s)\n", tokens, pass == 0 ? "counted and cached" : "from the cache",
                            t.nsecsElapsed() / 1e9);
            }
        } else {
            std::printf("no exact token count: %s\n", qPrintable(error));
        }

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
