// Acceptance 3, second half (issue 7): with a model whose window holds all attached documents, the
// chat sends them whole (DocumentContext's WholeDocuments path), so the paragraph with the answer is
// in the prompt without retrieval choosing it, and the answer's [n] links to that paragraph's chunk.
// The same conversation with a small window falls back to retrieval. A scripted backend stands in
// for the long-context model (the path is the same for any backend: ChatController builds the prompt).
#include "../ui/ScriptedBackend.h"
#include "chat/ChatController.h"
#include "documents/DocumentsController.h"
#include "storage/ConversationStore.h"
#include "storage/Database.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace v4app;
using documents::DocumentsController;

class TestLongContextChat : public QObject {
    Q_OBJECT

private slots:
    void aLargeWindowGetsTheWholeDocumentAndCitesTheParagraph() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        auto db = Database::open(dir.filePath(QStringLiteral("chat.sqlite3")));
        QVERIFY(db);
        ConversationStore        store(*db.value());
        v4test::ScriptedBackend  backend;
        DocumentsController      docs(dir.filePath(QStringLiteral("documents.sqlite3")));
        QVERIFY2(docs.isOpen(), qPrintable(docs.openError()));
        ChatController chat(&backend, &store, QStringLiteral("/models/long-context.gguf"));
        chat.setDocuments(&docs);
        chat.setMaxTokens(1024);
        chat.setContextWindow(1'000'000); // a V4-architecture / long-context model
        QSignalSpy meter(&chat, &ChatController::documentContextChanged);

        chat.send(QStringLiteral("hello"), ChatMode::Fast);
        QVERIFY(QTest::qWaitFor([&] { return !chat.isAnswering(); }, 5000));
        const qint64 conv = chat.conversationId();
        QVERIFY(conv > 0);

        // ~9 KB: several chunks, the fact in one paragraph in the middle.
        QByteArray log;
        for (int i = 0; i < 80; ++i) {
            log += "Maintenance log entry " + QByteArray::number(i) +
                   ": checked the harbour lamps, cleaned the lenses and noted the weather.\n\n";
            if (i == 40) {
                log += "In 1887 the lighthouse at Kettle Point was painted ochre by keeper Thaddeus Wrenfield.\n\n";
            }
        }
        const QString path = dir.filePath(QStringLiteral("harbour-log.txt"));
        QFile         f(path);
        QVERIFY(f.open(QIODevice::WriteOnly) && f.write(log) == log.size());
        f.close();
        QSignalSpy imported(&docs, &DocumentsController::queueFinished);
        docs.importFiles(conv, {path});
        QVERIFY(imported.wait(30000));
        QCOMPARE(docs.documents(conv).size(), 1);

        // The chunks in document order: the whole path numbers them [1]..[k] that way.
        auto hits = docs.store()->search(QStringLiteral("harbour lamps"), 1000, {.mode = documents::MatchMode::AnyWord});
        QVERIFY(hits);
        QList<documents::ChunkHit> chunks = hits.value();
        std::sort(chunks.begin(), chunks.end(), [](const auto & a, const auto & b) { return a.ordinal < b.ordinal; });
        QVERIFY2(chunks.size() >= 4, qPrintable(QString::number(chunks.size())));
        int planted = 0; // [n] of the paragraph with the answer
        for (int i = 0; i < chunks.size(); ++i) {
            if (chunks[i].text.contains(QStringLiteral("Wrenfield"))) planted = i + 1;
        }
        QVERIFY(planted > 1 && planted < chunks.size()); // not first, not last: nothing special about it

        backend.scripts = {{{}, {QStringLiteral("Keeper Thaddeus Wrenfield painted it ochre "), QStringLiteral("[%1].").arg(planted)}}};
        chat.send(QStringLiteral("Who painted the lighthouse at Kettle Point?"), ChatMode::Fast);
        QVERIFY(QTest::qWaitFor([&] { return !chat.isAnswering(); }, 5000));

        const QString prompt = backend.requests.last().messages.last().content;
        for (const documents::ChunkHit & c : chunks) { // every chunk, in order: the whole document
            QVERIFY2(prompt.contains(c.text.trimmed()), qPrintable(c.citation()));
        }
        QVERIFY(prompt.indexOf(chunks.first().text.trimmed()) < prompt.indexOf(chunks.last().text.trimmed()));
        QVERIFY(prompt.contains(QStringLiteral("[%1] harbour-log.txt").arg(planted)));
        QVERIFY2(meter.last().first().toString().contains(QStringLiteral("whole documents")), qPrintable(meter.last().first().toString()));
        const QString shown = chat.messagesForDisplay().last().content;
        QVERIFY2(shown.contains(QStringLiteral("[[%1]](v4cite:%2)").arg(planted).arg(chunks[planted - 1].chunkId)), qPrintable(shown));

        // A small window (an ordinary model) gets retrieved passages instead, the planted one first.
        chat.setContextWindow(1024 + 600);
        chat.send(QStringLiteral("Who painted the lighthouse at Kettle Point?"), ChatMode::Fast);
        QVERIFY(QTest::qWaitFor([&] { return !chat.isAnswering(); }, 5000));
        const QString small = backend.requests.last().messages.last().content;
        QVERIFY(small.contains(QStringLiteral("Thaddeus Wrenfield")));
        QVERIFY(!small.contains(chunks.first().text.trimmed()) || !small.contains(chunks.last().text.trimmed()));
        QVERIFY2(!meter.last().first().toString().contains(QStringLiteral("whole documents")), qPrintable(meter.last().first().toString()));
    }
};

QTEST_GUILESS_MAIN(TestLongContextChat)
#include "test_long_context_chat.moc"
