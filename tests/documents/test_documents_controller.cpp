// DocumentsController and DocumentContext: worker-thread import with progress, attach, remove,
// cancel, passages for citations, whole-document vs retrieved context (with recency), and kill -9
// of a child process importing through the controller, then resume.
#include "TestFiles.h"
#include "documents/DocumentsController.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

using namespace v4app;
using namespace v4app::documents;
using v4test::writeFile;

namespace {

QByteArray filler(int paragraphs, const QByteArray & topic) {
    QByteArray out;
    for (int i = 0; i < paragraphs; ++i) {
        out += "Paragraph " + QByteArray::number(i) + " of the " + topic +
               " notes, with ordinary words that pad the text out to a realistic size for a chunk.\n\n";
    }
    return out;
}

bool waitForQueue(DocumentsController & docs, int timeoutMs = 60000) {
    if (!docs.isImporting()) {
        return true;
    }
    QSignalSpy done(&docs, &DocumentsController::queueFinished);
    return done.wait(timeoutMs);
}

} // namespace

class TestDocumentsController : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void importsOnAWorkerAndAttaches() {
        DocumentsController docs(m_dir.filePath(QStringLiteral("a.sqlite3")));
        QVERIFY2(docs.isOpen(), qPrintable(docs.openError()));
        QSignalSpy progress(&docs, &DocumentsController::importProgress);
        QSignalSpy finished(&docs, &DocumentsController::importFinished);
        QSignalSpy failed(&docs, &DocumentsController::importFailed);
        QSignalSpy changed(&docs, &DocumentsController::documentsChanged);
        const QString good = writeFile(m_dir, QStringLiteral("orchard.md"), filler(200, "orchard"));
        const QString bad  = writeFile(m_dir, QStringLiteral("blob.txt"), QByteArray("\x7f" "ELF\0\0\0", 7) + QByteArray(5000, '\1'));
        docs.importFiles(11, {good, bad, good});
        QVERIFY(docs.isImporting());
        QVERIFY(waitForQueue(docs));
        QCOMPARE(finished.size(), 2);
        QCOMPARE(finished.at(1).at(3).toBool(), true); // the second copy: already present, only attached
        QCOMPARE(failed.size(), 1);
        QVERIFY(failed.first().at(2).toString().contains(QStringLiteral("looks like a binary file")));
        QVERIFY(progress.size() >= 2);
        QCOMPARE(changed.size(), 3);
        QVERIFY(docs.store()->pendingImports()->isEmpty());

        const auto rows = docs.documents(11);
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.first().info.name, QStringLiteral("orchard.md"));
        QVERIFY(rows.first().tokens > 0); // counted on the worker with the current tokenizer
        QVERIFY(docs.documents(12).isEmpty());
        QVERIFY(docs.summarizeRequest(rows.first().info.id).contains(QStringLiteral("orchard.md")));

        const qint64 chunkId = docs.store()->chunks(rows.first().info.id)->at(3).chunkId;
        auto         passage = docs.passage(chunkId);
        QVERIFY(passage);
        QVERIFY(passage->citation().startsWith(QStringLiteral("orchard.md, lines ")));

        // Shared by two conversations: removing from one keeps it for the other.
        QVERIFY(docs.store()->attach(12, rows.first().info.id));
        QVERIFY(docs.removeDocument(11, rows.first().info.id));
        QVERIFY(docs.documents(11).isEmpty());
        QCOMPARE(docs.documents(12).size(), 1);
        QVERIFY(docs.removeDocument(12, rows.first().info.id));
        QVERIFY(docs.store()->documents()->isEmpty()); // no user left: deleted
        QCOMPARE(docs.passage(chunkId).error().kind, StorageError::Kind::NotFound);
    }

    void cancelRollsBack() {
        DocumentsController docs(m_dir.filePath(QStringLiteral("c.sqlite3")));
        QSignalSpy          failed(&docs, &DocumentsController::importFailed);
        const QString       big = writeFile(m_dir, QStringLiteral("big.txt"), filler(60000, "cancelled"));
        connect(&docs, &DocumentsController::importProgress, &docs, [&docs](qint64, const QString &, qint64 done, qint64) {
            if (done > 0) {
                docs.cancelImports();
            }
        });
        docs.importFiles(3, {big, big});
        QVERIFY(waitForQueue(docs));
        QCOMPARE(failed.size(), 2);
        QVERIFY(failed.at(0).at(3).toBool());
        QVERIFY(failed.at(1).at(3).toBool());
        QVERIFY(docs.store()->documents()->isEmpty());
        QVERIFY(docs.store()->pendingImports()->isEmpty());
        QCOMPARE(docs.store()->db().queryInt(QStringLiteral("SELECT count(*) FROM chunks")).value(), qint64(0));
    }

    void contextWholeOrRetrieved() {
        DocumentsController docs(m_dir.filePath(QStringLiteral("ctx.sqlite3")));
        QByteArray          text = filler(300, "lighthouse");
        text.insert(text.size() / 2, "The keeper's cat was called Admiral Whiskers and slept on the lamp.\n\n");
        docs.importFiles(4, {writeFile(m_dir, QStringLiteral("keeper.txt"), text),
                             writeFile(m_dir, QStringLiteral("tides.txt"), filler(100, "tide table"))});
        QVERIFY(waitForQueue(docs));

        auto whole = docs.contextFor(4, QStringLiteral("what was the cat called?"), {}, 1'000'000);
        QVERIFY(whole);
        QCOMPARE(whole->mode, ContextReport::Mode::WholeDocuments);
        QCOMPARE(whole->attachedDocuments, 2);
        QVERIFY(whole->leftOut.isEmpty());
        const int allChunks = int(docs.store()->chunks(docs.documents(4)[0].info.id)->size() +
                                  docs.store()->chunks(docs.documents(4)[1].info.id)->size());
        QCOMPARE(whole->included.size(), allChunks);
        QVERIFY(whole->summary().contains(QStringLiteral("whole documents")));

        auto some = docs.contextFor(4, QStringLiteral("what was the cat called?"), {}, 1500);
        QVERIFY(some);
        QCOMPARE(some->mode, ContextReport::Mode::Retrieved);
        QVERIFY(some->usedTokens <= 1500);
        QVERIFY(some->included.first().text.contains(QStringLiteral("Admiral Whiskers")));
        QVERIFY(some->promptBlock.startsWith(QStringLiteral("[1] keeper.txt, lines ")));
        QCOMPARE(some->chunkIds().first(), some->included.first().chunkId);
        QVERIFY(!some->leftOut.isEmpty());
        QVERIFY(some->summary().contains(QStringLiteral("left out")));

        // A follow-up with no word of its own in the documents still finds them through the
        // conversation's recent turns.
        auto followUp = docs.contextFor(4, QStringLiteral("why?"), {QStringLiteral("Tell me about the tide table")}, 1500);
        QVERIFY(followUp);
        QVERIFY(!followUp->included.isEmpty());
        QVERIFY(followUp->included.first().documentName == QStringLiteral("tides.txt"));

        auto none = docs.contextFor(99, QStringLiteral("cat"), {}, 1500);
        QVERIFY(none);
        QCOMPARE(none->mode, ContextReport::Mode::NoDocuments);
        QVERIFY(none->promptBlock.isEmpty());
    }

    // kill -9 of a process importing through the controller; then: database intact, nothing half
    // imported, and resumePendingImports() finishes the queue.
    void killedImportResumes() {
        QTemporaryDir work;
        const QString db    = work.filePath(QStringLiteral("killed.sqlite3"));
        const int     count = 12;
        QProcess      child;
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child.start(QStringLiteral(V4_DOCUMENTS_WRITER), {db, work.path(), QString::number(count), QStringLiteral("controller")});
        QVERIFY(child.waitForStarted());
        QByteArray    out;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 60000 && out.count("committed") < 2) {
            QVERIFY(child.state() == QProcess::Running);
            child.waitForReadyRead(50);
            out += child.readAllStandardOutput();
        }
        while (!out.endsWith('\n') || !out.split('\n').at(out.count('\n') - 1).startsWith("progress")) {
            child.waitForReadyRead(20); // land the kill right after a progress line: inside an import
            out += child.readAllStandardOutput();
            if (timer.elapsed() > 60000) {
                break;
            }
        }
        ::kill(pid_t(child.processId()), SIGKILL);
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);
        qInfo() << "killed after" << out.count("committed") << "committed documents; last line:"
                << out.trimmed().split('\n').last();

        {
            auto raw = Database::open(db, DocumentStore::openOptions());
            QVERIFY(raw);
            QCOMPARE(raw.value()->integrityCheck().value(), QStringList{QStringLiteral("ok")});
            QCOMPARE(raw.value()->queryInt(QStringLiteral("SELECT count(*) FROM documents WHERE status <> 'ready'")).value(), qint64(0));
        }
        DocumentsController docs(db);
        QVERIFY(docs.isOpen());
        const int before = int(docs.documents(5).size());
        QVERIFY(before >= 2 && before < count);
        for (const DocumentRow & row : docs.documents(5)) { // whole: the last paragraph's marker is there
            QVERIFY(row.info.chunkCount > 200);
            const QString marker = QStringLiteral("marker%1x1499").arg(row.info.name.mid(3).chopped(4));
            QCOMPARE(docs.store()->search(marker, 5, {MatchMode::AllWords, 5})->size(), 1);
        }
        const int pending = int(docs.store()->pendingImports()->size());
        QVERIFY2(pending >= count - before && pending <= count - before + 1, qPrintable(QString::number(pending)));

        QCOMPARE(docs.resumePendingImports(), pending);
        QVERIFY(waitForQueue(docs));
        const auto rows = docs.documents(5);
        QCOMPARE(rows.size(), count);
        for (const DocumentRow & row : rows) {
            QCOMPARE(row.info.chunkCount, rows.first().info.chunkCount); // all generated alike
        }
        QVERIFY(docs.store()->pendingImports()->isEmpty());
        QCOMPARE(docs.store()->db().integrityCheck().value(), QStringList{QStringLiteral("ok")});
        QVERIFY(docs.store()->db().exec(QStringLiteral("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")));
    }
};

QTEST_GUILESS_MAIN(TestDocumentsController)
#include "test_documents_controller.moc"
