// Helper for test_documents' kill -9 test: generates `count` text files of ~1 MB under <dir> and
// imports them one by one into <db>, printing (flushed) "begin i", "progress i done total",
// "committed i id chunks". The test kills it mid-import and checks what is visible afterwards.
// Usage: documents_writer <db> <dir> <count> [controller]
// With "controller" the files are written first and queued through DocumentsController (worker
// thread, durable queue), printing "progress i done total" / "committed i id" from its signals.
#include "documents/DocumentStore.h"
#include "documents/DocumentsController.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QThread>

#include <cstdio>

using namespace v4app::documents;

namespace {

// docN.txt: 1500 paragraphs (~370 KB), each with a unique marker word markerNxP.
QString writeDocument(const QString & dir, int i) {
    const QString path = QStringLiteral("%1/doc%2.txt").arg(dir).arg(i);
    QFile         file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return {};
    }
    for (int p = 0; p < 1500; ++p) {
        file.write(QStringLiteral("Document %1 paragraph %2: the quick brown fox jumps over the lazy dog, "
                                  "and every paragraph carries a few words so that FTS5 has work to do. "
                                  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
                                  "tempor incididunt ut labore et dolore magna aliqua. marker%1x%2\n\n")
                       .arg(i)
                       .arg(p)
                       .toUtf8());
    }
    return path;
}

int indexOf(const QString & path) {
    return QFileInfo(path).completeBaseName().mid(3).toInt();
}

int throughController(const QString & db, const QString & dir, int count, QCoreApplication & app) {
    QStringList paths;
    for (int i = 0; i < count; ++i) {
        paths.append(writeDocument(dir, i));
        if (paths.last().isEmpty()) {
            return 1;
        }
    }
    DocumentsController docs(db);
    if (!docs.isOpen()) {
        std::fprintf(stderr, "%s\n", qPrintable(docs.openError()));
        return 1;
    }
    QObject::connect(&docs, &DocumentsController::importProgress, [](qint64, const QString & path, qint64 done, qint64 total) {
        std::printf("progress %d %lld %lld\n", indexOf(path), qint64(done), qint64(total));
        std::fflush(stdout);
    });
    QObject::connect(&docs, &DocumentsController::importFinished, [](qint64, const QString & path, qint64 id, bool) {
        std::printf("committed %d %lld\n", indexOf(path), qint64(id));
        std::fflush(stdout);
    });
    QObject::connect(&docs, &DocumentsController::importFailed, [](qint64, const QString &, const QString & message, bool) {
        std::fprintf(stderr, "%s\n", qPrintable(message));
    });
    QObject::connect(&docs, &DocumentsController::queueFinished, &app, &QCoreApplication::quit);
    docs.importFiles(5, paths);
    return app.exec();
}

} // namespace

int main(int argc, char ** argv) {
    QCoreApplication app(argc, argv);
    if (argc != 4 && argc != 5) {
        std::fprintf(stderr, "usage: documents_writer <db> <dir> <count> [controller]\n");
        return 2;
    }
    const QString dir   = QString::fromLocal8Bit(argv[2]);
    const int     count = QByteArray(argv[3]).toInt();
    auto          store = DocumentStore::open(QString::fromLocal8Bit(argv[1]));
    if (!store) {
        std::fprintf(stderr, "%s\n", qPrintable(store.error().message));
        return 1;
    }
    if (argc == 5) {
        return throughController(QString::fromLocal8Bit(argv[1]), dir, count, app);
    }
    for (int i = 0; i < count; ++i) {
        const QString path = writeDocument(dir, i);
        if (path.isEmpty()) {
            return 1;
        }
        std::printf("begin %d\n", i);
        std::fflush(stdout);
        auto outcome = store.value()->importFile(path, [i](qint64 done, qint64 total) {
            std::printf("progress %d %lld %lld\n", i, qint64(done), qint64(total));
            std::fflush(stdout);
            QThread::msleep(2); // slow enough for the test to land a kill inside the transaction
            return true;
        });
        if (!outcome) {
            std::fprintf(stderr, "%s\n", qPrintable(outcome.error().message));
            return 1;
        }
        std::printf("committed %d %lld %d\n", i, outcome->documentId, outcome->chunkCount);
        std::fflush(stdout);
    }
    return 0;
}
