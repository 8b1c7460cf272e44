// Database + ConversationStore: CRUD, branches, streaming throttle, undo, search, export/import,
// migrations, refusal of newer/corrupt files, kill -9 durability and disk-full handling.
#include "storage/ConversationStore.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace v4app;

namespace {

std::unique_ptr<Database> openOrFail(const QString & path, const OpenOptions & options = {}) {
    auto db = Database::open(path, options);
    if (!db) {
        qWarning("open failed: %s", qPrintable(db.error().message));
        return nullptr;
    }
    return std::move(db.value());
}

QString storedContent(Database & db, qint64 messageId) {
    auto stmt = db.prepare(QStringLiteral("SELECT content FROM messages WHERE id = ?1"));
    stmt->bind(1, messageId);
    return stmt->step().value() ? stmt->text(0) : QStringLiteral("<missing>");
}

QString storedStatus(Database & db, qint64 messageId) {
    auto stmt = db.prepare(QStringLiteral("SELECT status FROM messages WHERE id = ?1"));
    stmt->bind(1, messageId);
    return stmt->step().value() ? stmt->text(0) : QStringLiteral("<missing>");
}

QByteArray fileHash(const QString & path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

// A finished exchange: user message + complete answer; returns the answer id.
qint64 exchange(ConversationStore & store, qint64 conv, qint64 parent, const QString & question, const QString & answer,
                qint64 * userId = nullptr) {
    const qint64 u = store.addUserMessage(conv, parent, question).value();
    const qint64 a = store.beginAssistantMessage(conv, u, {QStringLiteral("gemma"), QStringLiteral("local-cpu"), {}}).value();
    (void)store.appendToStreaming(a, answer, {});
    GenerationStats stats;
    stats.completionTokens = 3;
    (void)store.finishAssistantMessage(a, stats);
    if (userId) {
        *userId = u;
    }
    return a;
}

} // namespace

class TestConversationStore : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int           m_n = 0;
    QString       freshPath() { return m_dir.filePath(QStringLiteral("db%1.sqlite3").arg(++m_n)); }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    void freshDatabaseHasLatestSchema() {
        const QString path = freshPath();
        auto          db   = openOrFail(path);
        QVERIFY(db);
        QCOMPARE(db->schemaVersion(), Database::latestVersion());
        QCOMPARE(db->queryInt(QStringLiteral("PRAGMA foreign_keys")).value(), 1);
        {
            auto mode = db->prepare(QStringLiteral("PRAGMA journal_mode")); // statements must not outlive db
            QVERIFY(mode->step().value());
            QCOMPARE(mode->text(0), QStringLiteral("wal"));
        }
        QCOMPARE(db->queryInt(QStringLiteral("PRAGMA synchronous")).value(), 1); // NORMAL
        QVERIFY(QFileInfo::exists(Database::markerPath(path)));
        QVERIFY(!db->recoveredFromUncleanShutdown());
        db.reset();
        QVERIFY(!QFileInfo::exists(Database::markerPath(path))); // clean close

        // An existing empty (0-byte) file is a valid empty database: migrated from version 0.
        const QString empty = freshPath();
        QFile         f(empty);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        auto fromEmpty = openOrFail(empty);
        QVERIFY(fromEmpty);
        QCOMPARE(fromEmpty->schemaVersion(), Database::latestVersion());
    }

    void crud() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        QSignalSpy        changed(&store, &ConversationStore::conversationsChanged);
        const qint64      a = store.createConversation(QStringLiteral("Alpha"), QStringLiteral("fast")).value();
        QTest::qWait(2);
        const qint64 b = store.createConversation(QStringLiteral("Beta")).value();
        QTest::qWait(2);
        const qint64 c = store.createConversation(QStringLiteral("Gamma")).value();
        QCOMPARE(changed.count(), 3);

        auto list = store.listConversations().value();
        QCOMPARE(list.size(), 3);
        QCOMPARE(list[0].id, c); // newest first
        QVERIFY(store.setPinned(a, true));
        QVERIFY(store.renameConversation(b, QStringLiteral("Beta renamed")));
        QTest::qWait(2);
        exchange(store, b, 0, QStringLiteral("q"), QStringLiteral("a")); // activity moves b up
        list = store.listConversations().value();
        QCOMPARE(list[0].id, a); // pinned first
        QVERIFY(list[0].pinned);
        QCOMPARE(list[1].id, b);
        QCOMPARE(list[1].title, QStringLiteral("Beta renamed"));
        QCOMPARE(list[2].id, c);
        QCOMPARE(store.conversation(a).value().mode, QStringLiteral("fast"));

        auto missing = store.conversation(9999);
        QVERIFY(!missing);
        QCOMPARE(missing.error().kind, StorageError::Kind::NotFound);
        QVERIFY(!store.renameConversation(9999, QStringLiteral("x")));
        QVERIFY(!store.addUserMessage(9999, 0, QStringLiteral("x")));
    }

    void deleteMessageMovesTheActiveBranch() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        const qint64      conv = store.createConversation(QStringLiteral("Delete")).value();
        qint64            u1   = 0;
        const qint64      a1   = exchange(store, conv, 0, QStringLiteral("Question"), QStringLiteral("first"), &u1);
        const qint64      r1   = store.beginAssistantMessage(conv, u1, {}).value();
        (void)store.appendToStreaming(r1, QStringLiteral("second"), {});
        QVERIFY(store.finishAssistantMessage(r1, {}));
        qint64 u2 = 0;
        (void)exchange(store, conv, r1, QStringLiteral("Follow-up"), QStringLiteral("more"), &u2);
        QCOMPARE(store.activeBranch(conv)->size(), 4);

        // Deleting the active answer takes its follow-up along; the sibling's branch becomes active.
        QVERIFY(store.deleteMessage(r1));
        auto branch = store.activeBranch(conv).value();
        QCOMPARE(branch.size(), 2);
        QCOMPARE(branch.last().id, a1);
        QVERIFY(!store.message(u2));
        // Deleting the last answer leaves its question as the leaf; deleting that empties it.
        QVERIFY(store.deleteMessage(a1));
        QCOMPARE(store.activeBranch(conv)->last().id, u1);
        QVERIFY(store.deleteMessage(u1));
        QVERIFY(store.activeBranch(conv)->isEmpty());
        QCOMPARE(db->integrityCheck().value(), QStringList{QStringLiteral("ok")});
        QVERIFY(!store.deleteMessage(424242));
    }

    void modeIsRememberedPerConversation() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        const qint64      a = store.createConversation(QStringLiteral("A"), QStringLiteral("fast")).value();
        const qint64      b = store.createConversation(QStringLiteral("B"), QStringLiteral("fast")).value();
        QVERIFY(store.setMode(a, QStringLiteral("expert")));
        QCOMPARE(store.conversation(a)->mode, QStringLiteral("expert"));
        QCOMPARE(store.conversation(b)->mode, QStringLiteral("fast"));
        QVERIFY(!store.setMode(9999, QStringLiteral("auto")));
    }

    void branches() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        const qint64      conv = store.createConversation(QStringLiteral("Branches")).value();
        qint64            u1   = 0;
        const qint64      a1   = exchange(store, conv, 0, QStringLiteral("Question"), QStringLiteral("first"), &u1);
        // Regenerate twice: three assistant siblings under the same user message.
        const qint64 r1 = store.beginAssistantMessage(conv, u1, {}).value();
        (void)store.appendToStreaming(r1, QStringLiteral("second"), {});
        QVERIFY(store.finishAssistantMessage(r1, {}));
        const qint64 r2 = store.beginAssistantMessage(conv, u1, {}).value();
        (void)store.appendToStreaming(r2, QStringLiteral("third"), {});
        QVERIFY(store.finishAssistantMessage(r2, {}));

        const SiblingInfo sib = store.siblings(r2).value();
        QCOMPARE(sib.ids, (QVector<qint64>{a1, r1, r2}));
        QCOMPARE(sib.index, 2);
        QCOMPARE(store.siblings(a1).value().index, 0);

        auto path = store.activeBranch(conv).value();
        QCOMPARE(path.size(), 2);
        QCOMPARE(path[0].id, u1);
        QCOMPARE(path[1].id, r2);
        QCOMPARE(path[1].content, QStringLiteral("third"));
        QCOMPARE(path[1].siblingIndex, 2);
        QCOMPARE(path[1].siblingCount, 3);

        QVERIFY(store.switchToBranch(a1));
        path = store.activeBranch(conv).value();
        QCOMPARE(path.size(), 2);
        QCOMPARE(path[1].content, QStringLiteral("first"));

        // Editing the user message = a sibling with the same (root) parent, and it becomes active.
        const qint64 edited = store.addUserMessage(conv, 0, QStringLiteral("Question, edited")).value();
        const qint64 ea     = store.beginAssistantMessage(conv, edited, {}).value();
        QVERIFY(store.finishAssistantMessage(ea, {}));
        QCOMPARE(store.siblings(edited).value().ids, (QVector<qint64>{u1, edited}));
        path = store.activeBranch(conv).value();
        QCOMPARE(path.size(), 2);
        QCOMPARE(path[0].content, QStringLiteral("Question, edited"));
        QCOMPARE(path[0].siblingIndex, 1);
        QCOMPARE(path[0].siblingCount, 2);

        // Back to the original question: its newest answer is picked.
        QVERIFY(store.switchToBranch(u1));
        path = store.activeBranch(conv).value();
        QCOMPARE(path[1].id, r2);

        // A parent from another conversation is refused.
        const qint64 other = store.createConversation(QStringLiteral("Other")).value();
        auto         bad   = store.addUserMessage(other, u1, QStringLiteral("x"));
        QVERIFY(!bad);
        QCOMPARE(bad.error().kind, StorageError::Kind::NotFound);
    }

    void streamingFlushThrottle() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        QCOMPARE(store.flushInterval(), 250);
        const qint64 conv = store.createConversation(QStringLiteral("Stream")).value();
        const qint64 u    = store.addUserMessage(conv, 0, QStringLiteral("hi")).value();
        const qint64 a    = store.beginAssistantMessage(conv, u, {QStringLiteral("m"), QStringLiteral("remote"), {}}).value();
        QCOMPARE(storedStatus(*db, a), QStringLiteral("streaming")); // row written at start

        QString expected;
        for (int i = 0; i < 50; ++i) { // a burst well inside one interval: no write yet
            (void)store.appendToStreaming(a, QStringLiteral("w%1 ").arg(i), QStringLiteral("."));
            expected += QStringLiteral("w%1 ").arg(i);
        }
        QCOMPARE(store.flushCount(), 0);
        QCOMPARE(storedContent(*db, a), QString());
        QCOMPARE(store.message(a).value().content, expected); // readers see the memory copy
        // The timer writes the tail even if no more tokens come.
        QTRY_COMPARE_WITH_TIMEOUT(store.flushCount(), 1, 1000);
        QCOMPARE(storedContent(*db, a), expected);

        // Steady stream for ~1.2 s, a token every 10 ms: about one write per 250 ms, not 120.
        const int     before = store.flushCount();
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 1200) {
            (void)store.appendToStreaming(a, QStringLiteral("x "), {});
            expected += QStringLiteral("x ");
            QTest::qWait(10);
        }
        const int writes = store.flushCount() - before;
        QVERIFY2(writes >= 3 && writes <= 6, qPrintable(QStringLiteral("%1 writes").arg(writes)));

        GenerationStats stats;
        stats.backend          = QStringLiteral("remote");
        stats.model            = QStringLiteral("gpt-x");
        stats.promptTokens     = 12;
        stats.completionTokens = 170;
        stats.ttftMs           = 123.5;
        stats.tokensPerSecond  = 42.25;
        stats.finishReason     = QStringLiteral("stop");
        QVERIFY(store.finishAssistantMessage(a, stats));
        const StoredMessage m = store.message(a).value();
        QCOMPARE(m.content, expected);
        QCOMPARE(storedContent(*db, a), expected);
        QCOMPARE(m.thinking, QString(50, QLatin1Char('.')));
        QCOMPARE(m.status, MessageStatus::Complete);
        QCOMPARE(m.stats.model, QStringLiteral("gpt-x"));
        QCOMPARE(m.stats.completionTokens, 170);
        QCOMPARE(m.stats.ttftMs, 123.5);
        QCOMPARE(m.stats.tokensPerSecond, 42.25);
        QCOMPARE(m.stats.finishReason, QStringLiteral("stop"));
        QVERIFY(!store.appendToStreaming(a, QStringLiteral("late"), {})); // finished: refused
    }

    void failCancelAndInterrupted() {
        const QString path = freshPath();
        auto          db   = openOrFail(path);
        QVERIFY(db);
        qint64 failed = 0, cancelled = 0, dropped = 0, orphan = 0;
        {
            ConversationStore store(*db);
            const qint64      conv = store.createConversation(QStringLiteral("Fail")).value();
            const qint64      u    = store.addUserMessage(conv, 0, QStringLiteral("q")).value();
            failed                 = store.beginAssistantMessage(conv, u, {}).value();
            (void)store.appendToStreaming(failed, QStringLiteral("partial"), {});
            QVERIFY(store.failAssistantMessage(failed, {ChatError::Kind::Network, QStringLiteral("offline")}, true));
            cancelled = store.beginAssistantMessage(conv, u, {}).value();
            (void)store.appendToStreaming(cancelled, QStringLiteral("half"), {});
            QVERIFY(store.failAssistantMessage(cancelled, {ChatError::Kind::Cancelled, QStringLiteral("stopped")}, true));
            dropped = store.beginAssistantMessage(conv, u, {}).value();
            (void)store.appendToStreaming(dropped, QStringLiteral("junk"), {});
            QVERIFY(store.failAssistantMessage(dropped, {ChatError::Kind::Server, QStringLiteral("500")}, false));
            orphan = store.beginAssistantMessage(conv, u, {}).value();
            // A store that is still streaming does not mark its own live message interrupted.
            QCOMPARE(store.markInterrupted().value(), 0);
            QVERIFY(db->exec(QStringLiteral("UPDATE messages SET content = 'saved part' WHERE id = %1").arg(orphan)));
        }
        // The destructor flushed, but the row is still 'streaming' as after a crash.
        ConversationStore store(*db);
        QCOMPARE(store.markInterrupted().value(), 1);
        QCOMPARE(store.message(failed).value().status, MessageStatus::Failed);
        QCOMPARE(store.message(failed).value().content, QStringLiteral("partial"));
        QCOMPARE(store.message(failed).value().error, QStringLiteral("offline"));
        QCOMPARE(store.message(cancelled).value().status, MessageStatus::Cancelled);
        QCOMPARE(store.message(dropped).value().content, QString());
        QCOMPARE(store.message(orphan).value().status, MessageStatus::Interrupted);
        QCOMPARE(store.message(orphan).value().content, QStringLiteral("saved part"));
    }

    void undoDeleteAndPurge() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        const qint64      keep = store.createConversation(QStringLiteral("Keep")).value();
        const qint64      gone = store.createConversation(QStringLiteral("Zebra facts")).value();
        exchange(store, gone, 0, QStringLiteral("zebras?"), QStringLiteral("stripes everywhere"));
        QVERIFY(store.deleteConversation(gone));
        QCOMPARE(store.listConversations().value().size(), 1);
        QCOMPARE(store.listDeleted().value().size(), 1);
        QVERIFY(store.search(QStringLiteral("stripes")).value().isEmpty());
        QVERIFY(store.search(QStringLiteral("zebra")).value().isEmpty());
        QVERIFY(store.undoDelete(gone));
        QCOMPARE(store.listConversations().value().size(), 2);
        QCOMPARE(store.search(QStringLiteral("stripes")).value().size(), 1);
        QCOMPARE(store.activeBranch(gone).value().size(), 2);

        QVERIFY(store.deleteConversation(gone));
        QCOMPARE(store.purgeDeleted(QDateTime::currentMSecsSinceEpoch() - 60000).value(), 0); // too recent
        QCOMPARE(store.purgeDeleted(QDateTime::currentMSecsSinceEpoch() + 1).value(), 1);
        QVERIFY(!store.undoDelete(gone));
        QCOMPARE(db->queryInt(QStringLiteral("SELECT count(*) FROM messages WHERE conversation_id = %1").arg(gone)).value(), 0);
        QVERIFY(db->exec(QStringLiteral("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")));
        QVERIFY(db->exec(QStringLiteral("INSERT INTO conversations_fts(conversations_fts) VALUES ('integrity-check')")));
        QCOMPARE(store.conversation(keep).value().title, QStringLiteral("Keep"));
    }

    void search() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        const qint64      trip  = store.createConversation(QStringLiteral("Mountain trip planning")).value();
        const qint64      greet = store.createConversation(QStringLiteral("Greetings")).value();
        const qint64      code  = store.createConversation(QStringLiteral("Code")).value();
        exchange(store, trip, 0, QStringLiteral("What should I pack?"), QStringLiteral("Boots, water and a map."));
        exchange(store, greet, 0, QStringLiteral("Grüße aus München!"), QStringLiteral("Привет, мир! 你好世界"));
        exchange(store, code, 0, QStringLiteral("The shop is near the station - \"quoted\" a*b"),
                 QStringLiteral("Use NEAR(a b) carefully; AND OR NOT are words too."));

        const auto ids = [&](const QString & q) {
            auto hits = store.search(q);
            if (!hits) {
                qWarning("search %s: %s", qPrintable(q), qPrintable(hits.error().message));
                return QVector<qint64>{-1};
            }
            QVector<qint64> out;
            for (const SearchHit & h : hits.value()) {
                out << h.conversationId;
            }
            return out;
        };
        QCOMPARE(ids(QStringLiteral("mountain")), QVector<qint64>{trip}); // title
        QCOMPARE(ids(QStringLiteral("moun")), QVector<qint64>{trip});     // prefix
        QCOMPARE(ids(QStringLiteral("boots")), QVector<qint64>{trip});    // content
        QCOMPARE(ids(QStringLiteral("BOOTS map")), QVector<qint64>{trip}); // all words, any case
        QVERIFY(ids(QStringLiteral("boots zebra")).isEmpty());
        QCOMPARE(ids(QStringLiteral("münchen")), QVector<qint64>{greet});
        QCOMPARE(ids(QStringLiteral("munchen")), QVector<qint64>{greet}); // diacritics folded
        QCOMPARE(ids(QStringLiteral("grüße")), QVector<qint64>{greet});
        QCOMPARE(ids(QStringLiteral("прив")), QVector<qint64>{greet});
        QCOMPARE(ids(QStringLiteral("МИР")), QVector<qint64>{greet});
        QCOMPARE(ids(QStringLiteral("你好")), QVector<qint64>{greet});

        // Hostile input is text, never FTS5 syntax: no error, sensible matches.
        for (const QString & hostile :
             {QStringLiteral("\""), QStringLiteral("*"), QStringLiteral("NEAR("), QStringLiteral("-"),
              QStringLiteral("\"unbalanced"), QStringLiteral("a*b"), QStringLiteral("AND"), QStringLiteral("OR NOT"),
              QStringLiteral("content:boots"), QStringLiteral(")("), QStringLiteral("^boots"), QStringLiteral("{x}"),
              QStringLiteral("\"\"\""), QStringLiteral("NEAR(a b, 2)"), QStringLiteral("-boots"), QString()}) {
            auto hits = store.search(hostile);
            QVERIFY2(hits.hasValue(), qPrintable(hostile + QStringLiteral(": ") +
                                                  (hits ? QString() : hits.error().message)));
        }
        QCOMPARE(ids(QStringLiteral("NEAR(")), QVector<qint64>{code});
        QCOMPARE(ids(QStringLiteral("\"quoted")), QVector<qint64>{code});
        QCOMPARE(ids(QStringLiteral("-boots")), QVector<qint64>{trip}); // not "NOT boots"
        QVERIFY(ids(QStringLiteral("*")).isEmpty());

        const auto hits = store.search(QStringLiteral("boots")).value();
        QCOMPARE(hits.size(), 1);
        QVERIFY(hits[0].snippet.contains(QStringLiteral("[Boots]")));
        QCOMPARE(hits[0].title, QStringLiteral("Mountain trip planning"));
        QVERIFY(hits[0].messageId != 0);
    }

    void exportImportRoundTrip() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        const qint64      conv = store.createConversation(QStringLiteral("Export me"), QStringLiteral("expert")).value();
        QVERIFY(store.setPinned(conv, true));
        qint64       u  = 0;
        const qint64 a1 = exchange(store, conv, 0, QStringLiteral("Explain *Markdown*"), QStringLiteral("Sure: `code`"), &u);
        const qint64 a2 = store.beginAssistantMessage(conv, u, {QStringLiteral("big"), QStringLiteral("remote"), {}}).value();
        (void)store.appendToStreaming(a2, QStringLiteral("Second answer — ünïcödé"), QStringLiteral("let me think"));
        GenerationStats stats;
        stats.completionTokens = 7;
        stats.tokensPerSecond  = 10.5;
        QVERIFY(store.finishAssistantMessage(a2, stats));
        exchange(store, conv, a2, QStringLiteral("follow-up"), QStringLiteral("done"));
        QVERIFY(store.switchToBranch(a1));

        const QString md = store.exportMarkdown(conv, ExportScope::ActiveBranch).value();
        QVERIFY(md.startsWith(QStringLiteral("# Export me")));
        QVERIFY(md.contains(QStringLiteral("Sure: `code`")));
        QVERIFY(!md.contains(QStringLiteral("Second answer")));
        const QString mdAll = store.exportMarkdown(conv, ExportScope::AllBranches).value();
        QVERIFY(mdAll.contains(QStringLiteral("Second answer — ünïcödé")));
        QVERIFY(mdAll.contains(QStringLiteral("<summary>Thinking</summary>")));
        QVERIFY(mdAll.contains(QStringLiteral("branch 2/2")));

        const QByteArray json = store.exportJson(conv, ExportScope::AllBranches).value();
        const qint64     copy = store.importJson(json).value();
        QVERIFY(copy != conv);
        const ConversationInfo info = store.conversation(copy).value();
        QCOMPARE(info.title, QStringLiteral("Export me"));
        QCOMPARE(info.mode, QStringLiteral("expert"));
        QVERIFY(info.pinned);
        const auto original = store.activeBranch(conv).value();
        const auto imported = store.activeBranch(copy).value();
        QCOMPARE(imported.size(), original.size());
        for (qsizetype i = 0; i < original.size(); ++i) {
            QCOMPARE(imported[i].content, original[i].content);
            QCOMPARE(imported[i].role, original[i].role);
            QCOMPARE(imported[i].siblingCount, original[i].siblingCount);
            QCOMPARE(imported[i].createdAt, original[i].createdAt);
        }
        QVERIFY(store.switchToBranch(imported[1].id));
        const auto sib = store.siblings(imported[1].id).value();
        QCOMPARE(sib.ids.size(), 2);
        const StoredMessage second = store.message(sib.ids[1]).value();
        QCOMPARE(second.thinking, QStringLiteral("let me think"));
        QCOMPARE(second.stats.tokensPerSecond, 10.5);
        QCOMPARE(second.stats.model, QStringLiteral("big"));
        // Re-export of the copy equals the original export apart from ids and export-time fields.
        QJsonObject a = QJsonDocument::fromJson(json).object();
        QJsonObject b = QJsonDocument::fromJson(store.exportJson(copy, ExportScope::AllBranches).value()).object();
        QCOMPARE(b.value(QStringLiteral("messages")).toArray().size(), a.value(QStringLiteral("messages")).toArray().size());
        QCOMPARE(b.value(QStringLiteral("conversation")), a.value(QStringLiteral("conversation")));

        // Active branch only.
        const qint64 path = store.importJson(store.exportJson(conv, ExportScope::ActiveBranch).value()).value();
        QCOMPARE(store.activeBranch(path).value().size(), 2);
        QCOMPARE(db->queryInt(QStringLiteral("SELECT count(*) FROM messages WHERE conversation_id = %1").arg(path)).value(), 2);
    }

    void importRejectsBadFiles() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        const qint64      conv = store.createConversation(QStringLiteral("Source")).value();
        exchange(store, conv, 0, QStringLiteral("q"), QStringLiteral("a"));
        const QByteArray good = store.exportJson(conv, ExportScope::AllBranches).value();
        const qint64     before = db->queryInt(QStringLiteral("SELECT count(*) FROM messages")).value();

        const auto mutate = [&](const std::function<void(QJsonObject &)> & f) {
            QJsonObject root = QJsonDocument::fromJson(good).object();
            f(root);
            return QJsonDocument(root).toJson();
        };
        const auto setMessageField = [&](int index, const QString & key, const QJsonValue & value) {
            return mutate([&](QJsonObject & root) {
                QJsonArray  list = root[QStringLiteral("messages")].toArray();
                QJsonObject m    = list[index].toObject();
                m[key]           = value;
                list[index]      = m;
                root[QStringLiteral("messages")] = list;
            });
        };
        const QList<QByteArray> bad = {
            QByteArray("not json at all"),
            QByteArray("[1, 2, 3]"),
            good.left(good.size() / 2), // truncated
            mutate([](QJsonObject & r) { r[QStringLiteral("format")] = QStringLiteral("something else"); }),
            mutate([](QJsonObject & r) { r[QStringLiteral("version")] = 99; }),
            mutate([](QJsonObject & r) { r.remove(QStringLiteral("conversation")); }),
            mutate([](QJsonObject & r) { r[QStringLiteral("current_leaf")] = 123456; }),
            setMessageField(1, QStringLiteral("role"), QStringLiteral("robot")),       // the 2nd message is bad:
            setMessageField(1, QStringLiteral("parent_id"), 987654),                  // the 1st must not stay
            setMessageField(1, QStringLiteral("content"), 42),
            setMessageField(1, QStringLiteral("status"), QStringLiteral("exploded")),
            setMessageField(1, QStringLiteral("created_at"), QStringLiteral("yesterday")),
            setMessageField(1, QStringLiteral("id"), 1.5),
            setMessageField(1, QStringLiteral("prompt_tokens"), -4),
        };
        for (const QByteArray & file : bad) {
            auto result = store.importJson(file);
            QVERIFY2(!result, file.left(200).constData());
            QCOMPARE(result.error().kind, StorageError::Kind::InvalidInput);
            QVERIFY(result.error().message.contains(QStringLiteral("Nothing was imported")));
        }
        QCOMPARE(store.listConversations().value().size(), 1);
        QCOMPARE(db->queryInt(QStringLiteral("SELECT count(*) FROM messages")).value(), before);

        const QString badPath = m_dir.filePath(QStringLiteral("bad.json"));
        QFile         f(badPath);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"format\":");
        f.close();
        QVERIFY(!store.importJsonFile(badPath));
        QCOMPARE(store.importJsonFile(m_dir.filePath(QStringLiteral("missing.json"))).error().kind,
                 StorageError::Kind::Io);
    }

    void migrationFromV1() {
        const QString path = freshPath();
        {
            auto db = openOrFail(path, OpenOptions{5000, 1});
            QVERIFY(db);
            QCOMPARE(db->schemaVersion(), 1);
            QCOMPARE(db->queryInt(QStringLiteral("SELECT count(*) FROM sqlite_schema WHERE name = 'messages_fts'")).value(), 0);
            QVERIFY(db->exec(QStringLiteral(
                "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (1, 'Old chat', 1, 1);"
                "INSERT INTO messages (id, conversation_id, role, content, created_at, updated_at) "
                "VALUES (1, 1, 'user', 'written before search existed', 1, 1);"
                "UPDATE conversations SET current_leaf_id = 1 WHERE id = 1;")));
        }
        auto db = openOrFail(path);
        QVERIFY(db);
        QCOMPARE(db->schemaVersion(), Database::latestVersion());
        QCOMPARE(db->queryInt(QStringLiteral("PRAGMA user_version")).value(), Database::latestVersion());
        ConversationStore store(*db);
        QCOMPARE(store.search(QStringLiteral("existed")).value().size(), 1); // index built from old rows
        QCOMPARE(store.search(QStringLiteral("old chat")).value().size(), 1);
        QCOMPARE(store.activeBranch(1).value().size(), 1);
    }

    void refusesNewerVersion() {
        const QString path = freshPath();
        {
            auto db = openOrFail(path);
            QVERIFY(db);
            QVERIFY(db->exec(QStringLiteral("PRAGMA user_version = 99")));
        }
        const QByteArray hash = fileHash(path);
        auto             db   = Database::open(path);
        QVERIFY(!db);
        QCOMPARE(db.error().kind, StorageError::Kind::TooNew);
        QVERIFY2(db.error().message.contains(QStringLiteral("newer version")), qPrintable(db.error().message));
        QCOMPARE(fileHash(path), hash); // untouched
    }

    void readOnlyFileIsReported() {
        const QString path = freshPath();
        QVERIFY(openOrFail(path));
        QVERIFY(QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::ReadUser));
        if (QFileInfo(path).isWritable()) {
            QSKIP("running as root: permissions are not enforced");
        }
        auto db = Database::open(path);
        QVERIFY(!db);
        QCOMPARE(db.error().kind, StorageError::Kind::ReadOnly);
        QVERIFY(QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        QVERIFY(openOrFail(path));
    }

    void garbageFileIsNotADatabase() {
        const QString path = freshPath();
        QFile         f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QByteArray garbage(64 * 1024, '\0');
        QRandomGenerator(42).fillRange(reinterpret_cast<quint32 *>(garbage.data()), garbage.size() / 4);
        f.write(garbage);
        f.close();

        auto db = Database::open(path);
        QVERIFY(!db);
        QCOMPARE(db.error().kind, StorageError::Kind::NotADatabase);
        QCOMPARE(fileHash(path), QCryptographicHash::hash(garbage, QCryptographicHash::Sha256)); // never overwritten
        QVERIFY(!QFileInfo::exists(path + QStringLiteral("-wal")));

        const QString aside = Database::moveAside(path).value();
        QVERIFY(aside.startsWith(path + QStringLiteral(".corrupt-")));
        QVERIFY(!QFileInfo::exists(path));
        QCOMPARE(fileHash(aside), QCryptographicHash::hash(garbage, QCryptographicHash::Sha256));
        auto fresh = openOrFail(path);
        QVERIFY(fresh);
        ConversationStore store(*fresh);
        QVERIFY(store.createConversation(QStringLiteral("new start")));
    }

    void truncatedFileIsCorrupt() {
        const QString path = freshPath();
        {
            auto db = openOrFail(path);
            QVERIFY(db);
            ConversationStore store(*db);
            for (int i = 0; i < 200; ++i) {
                const qint64 c = store.createConversation(QStringLiteral("chat %1").arg(i)).value();
                exchange(store, c, 0, QString(300, QLatin1Char('q')), QStringLiteral("answer %1 ").arg(i).repeated(40));
            }
        }
        QVERIFY(!QFileInfo::exists(path + QStringLiteral("-wal"))); // checkpointed on close
        const qint64 size = QFileInfo(path).size();
        QVERIFY(size > 20 * 4096);
        QVERIFY(QFile::resize(path, size / 2 + 1000)); // cut in the middle of a page
        const QByteArray hash = fileHash(path);

        auto db = Database::open(path);
        QVERIFY(!db);
        QVERIFY2(db.error().kind == StorageError::Kind::Corrupt, qPrintable(db.error().message));
        QVERIFY(db.error().message.contains(QStringLiteral("damaged")));
        QCOMPARE(fileHash(path), hash);

        const QString aside = Database::moveAside(path).value();
        QVERIFY(QFileInfo::exists(aside));
        auto fresh = openOrFail(path);
        QVERIFY(fresh);
        QCOMPARE(ConversationStore(*fresh).listConversations().value().size(), 0);
    }

    void damageFoundAfterUncleanShutdown() {
        // The page count still matches, but a table page is overwritten: only integrity_check sees it,
        // and it runs because the marker says the last session did not close.
        const QString path = freshPath();
        {
            auto db = openOrFail(path);
            QVERIFY(db);
            ConversationStore store(*db);
            for (int i = 0; i < 100; ++i) {
                const qint64 c = store.createConversation(QStringLiteral("chat %1").arg(i)).value();
                exchange(store, c, 0, QStringLiteral("question"), QStringLiteral("answer %1 ").arg(i).repeated(50));
            }
        }
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadWrite));
        const qint64 pages = f.size() / 4096;
        f.seek((pages / 2) * 4096); // three whole b-tree pages, headers included
        f.write(QByteArray(3 * 4096, '\x5a'));
        f.close();
        QFile marker(Database::markerPath(path));
        QVERIFY(marker.open(QIODevice::WriteOnly));
        marker.close();

        auto db = Database::open(path);
        QVERIFY(!db);
        QVERIFY2(db.error().kind == StorageError::Kind::Corrupt, qPrintable(db.error().message));
        QVERIFY(QFileInfo::exists(Database::markerPath(path))); // checked again next time
        QVERIFY(Database::moveAside(path));
        QVERIFY(!QFileInfo::exists(Database::markerPath(path)));
        QVERIFY(openOrFail(path));
    }

    void killNineLosesAtMostOneFlushInterval() {
        const QString path        = freshPath();
        const int     flushMs     = 250;
        const int     tokenMs     = 5;
        qint64        previousAns = 0;
        for (int round = 0; round < 2; ++round) {
            QProcess writer;
            writer.setProcessChannelMode(QProcess::SeparateChannels);
            writer.start(QStringLiteral(V4_STORAGE_WRITER),
                         {path, QString::number(flushMs), QString::number(tokenMs)});
            QVERIFY2(writer.waitForStarted(10000), qPrintable(writer.errorString()));

            QByteArray out;
            int        flushes = 0;
            QElapsedTimer clock;
            clock.start();
            while (flushes < 3 && clock.elapsed() < 20000) {
                writer.waitForReadyRead(200);
                const QByteArray chunk = writer.readAllStandardOutput();
                out += chunk;
                flushes += chunk.count("flushed ");
            }
            QVERIFY2(flushes >= 3, writer.readAllStandardError().constData());
            QTest::qWait(QRandomGenerator::global()->bounded(50, 200)); // land anywhere in an interval
            writer.kill(); // SIGKILL
            QVERIFY(writer.waitForFinished(10000));
            QCOMPARE(writer.exitStatus(), QProcess::CrashExit);
            out += writer.readAllStandardOutput();

            // Parse what the writer said it did.
            qint64           conv = 0, ans = 0;
            QHash<int, long> appendedAt; // token -> ms
            int              lastAppended = -1, lastFlushedCount = 0;
            for (const QByteArray & line : out.split('\n')) {
                const QList<QByteArray> f = line.split(' ');
                if (f.size() == 3 && f[0] == "ready") {
                    conv = f[1].toLongLong();
                    ans  = f[2].toLongLong();
                } else if (f.size() == 3 && f[0] == "appended") {
                    lastAppended = f[1].toInt();
                    appendedAt.insert(lastAppended, f[2].toLong());
                } else if (f.size() == 3 && f[0] == "flushed") {
                    lastFlushedCount = f[1].toInt();
                }
            }
            QVERIFY(conv > 0 && ans > 0 && lastAppended > 0);

            auto db = openOrFail(path);
            QVERIFY(db);
            QVERIFY(db->recoveredFromUncleanShutdown()); // the marker was left: integrity_check ran
            QCOMPARE(db->integrityCheck().value(), QStringList{QStringLiteral("ok")});
            ConversationStore store(*db);
            // Round 2's writer already marked round 1's answer at its own start.
            if (previousAns != 0) {
                QCOMPARE(store.message(previousAns).value().status, MessageStatus::Interrupted);
            }
            QCOMPARE(store.message(ans).value().status, MessageStatus::Streaming);
            QCOMPARE(store.markInterrupted().value(), 1);

            const auto path2 = store.activeBranch(conv).value();
            QCOMPARE(path2.size(), 2);
            QCOMPARE(path2[0].content, QStringLiteral("Tell me a very long story."));
            const StoredMessage partial = path2[1];
            QCOMPARE(partial.id, ans);
            QCOMPARE(partial.status, MessageStatus::Interrupted);
            // The saved text is exactly t0 .. t(k-1): a prefix of what was generated, no torn write.
            const QStringList tokens = partial.content.split(QLatin1Char(' '), Qt::SkipEmptyParts);
            const int         k      = static_cast<int>(tokens.size());
            for (int i = 0; i < k; ++i) {
                QCOMPARE(tokens[i], QStringLiteral("t%1").arg(i));
            }
            QVERIFY(partial.content.endsWith(QLatin1Char(' ')));
            QVERIFY(partial.thinking.startsWith(QStringLiteral("h0 h1")));
            // Everything the writer saw committed is there ...
            QVERIFY2(k >= lastFlushedCount, qPrintable(QStringLiteral("k=%1 flushed=%2").arg(k).arg(lastFlushedCount)));
            // ... and what is lost was generated within one flush interval (+ scheduling slack).
            const int  lost     = lastAppended + 1 - k;
            const long lostSpan = lost > 0 ? appendedAt.value(lastAppended) - appendedAt.value(k - 1) : 0;
            qInfo("round %d: saved %d tokens, lost %d tokens (%ld ms of generation)", round, k, lost, lostSpan);
            QVERIFY2(lostSpan <= flushMs + 150, qPrintable(QStringLiteral("lost %1 ms").arg(lostSpan)));
            previousAns = ans;
        }
    }

    void diskFullKeepsTextAndRetries() {
        auto db = openOrFail(freshPath());
        QVERIFY(db);
        ConversationStore store(*db);
        QSignalSpy        errors(&store, &ConversationStore::storageError);
        store.setFlushInterval(50);
        const qint64 conv = store.createConversation(QStringLiteral("Full disk")).value();
        const qint64 u    = store.addUserMessage(conv, 0, QStringLiteral("committed question")).value();
        const qint64 a    = store.beginAssistantMessage(conv, u, {}).value();
        (void)store.appendToStreaming(a, QStringLiteral("small start "), {});
        QTRY_COMPARE_WITH_TIMEOUT(store.flushCount(), 1, 1000);

        // Simulate a full disk: the file may not grow by a single page.
        const qint64 pages = db->queryInt(QStringLiteral("PRAGMA page_count")).value();
        QVERIFY(db->exec(QStringLiteral("PRAGMA max_page_count = %1").arg(pages)));
        const QString big = QStringLiteral("lorem ipsum ").repeated(50000); // ~600 KB
        QTest::qWait(60);
        auto status = store.appendToStreaming(a, big, {});
        QVERIFY(!status);
        QCOMPARE(status.error().kind, StorageError::Kind::DiskFull);
        QVERIFY2(status.error().message.contains(QStringLiteral("disk is full")), qPrintable(status.error().message));
        QVERIFY(errors.count() >= 1);
        QCOMPARE(errors.first().first().value<StorageError>().kind, StorageError::Kind::DiskFull);

        // Nothing committed is lost, the new text is still in memory, nothing crashed.
        QCOMPARE(store.message(u).value().content, QStringLiteral("committed question"));
        QCOMPARE(storedContent(*db, a), QStringLiteral("small start "));
        QCOMPARE(store.message(a).value().content, QStringLiteral("small start ") + big);
        QVERIFY(!store.finishAssistantMessage(a, {}));
        QCOMPARE(storedStatus(*db, a), QStringLiteral("streaming"));
        QCOMPARE(db->integrityCheck().value(), QStringList{QStringLiteral("ok")});

        // Space comes back: the next timed flush saves everything, including the finish.
        QVERIFY(db->exec(QStringLiteral("PRAGMA max_page_count = 1073741823")));
        QTRY_COMPARE_WITH_TIMEOUT(storedStatus(*db, a), QStringLiteral("complete"), 2000);
        QCOMPARE(storedContent(*db, a), QStringLiteral("small start ") + big);
        QVERIFY(!store.appendToStreaming(a, QStringLiteral("x"), {})); // no longer streaming
    }
};

QTEST_GUILESS_MAIN(TestConversationStore)
#include "test_conversation_store.moc"
