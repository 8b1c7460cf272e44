// Helper for test_documents' kill -9 test: generates `count` text files of ~1 MB under <dir> and
// imports them one by one into <db>, printing (flushed) "begin i", "progress i done total",
// "committed i id chunks". The test kills it mid-import and checks what is visible afterwards.
// Usage: documents_writer <db> <dir> <count>
#include "documents/DocumentStore.h"

#include <QCoreApplication>
#include <QFile>
#include <QThread>

#include <cstdio>

using namespace v4app::documents;

int main(int argc, char ** argv) {
    QCoreApplication app(argc, argv);
    if (argc != 4) {
        std::fprintf(stderr, "usage: documents_writer <db> <dir> <count>\n");
        return 2;
    }
    const QString dir   = QString::fromLocal8Bit(argv[2]);
    const int     count = QByteArray(argv[3]).toInt();
    auto          store = DocumentStore::open(QString::fromLocal8Bit(argv[1]));
    if (!store) {
        std::fprintf(stderr, "%s\n", qPrintable(store.error().message));
        return 1;
    }
    for (int i = 0; i < count; ++i) {
        const QString path = QStringLiteral("%1/doc%2.txt").arg(dir).arg(i);
        QFile         file(path);
        if (!file.open(QIODevice::WriteOnly)) {
            return 1;
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
        file.close();
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
