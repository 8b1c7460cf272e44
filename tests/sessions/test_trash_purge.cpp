// purgeOldTrash: conversations in the trash for more than 30 days go for good, with their document
// attachments and session snapshots; newer trash, live conversations and the documents stay.
#include "sessions/TrashPurge.h"

#include "documents/DocumentStore.h"
#include "sessions/SessionSnapshotStore.h"
#include "storage/ConversationStore.h"
#include "storage/Database.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace v4app;

class TestTrashPurge : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;

    static void writeFile(const QString & path, const QByteArray & bytes) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
    }

private slots:
    void oldTrashGoesWithItsAttachmentsAndSnapshots() {
        QVERIFY(m_dir.isValid());
        auto db = Database::open(m_dir.filePath(QStringLiteral("conversations.sqlite3")));
        QVERIFY2(db, db ? "" : qPrintable(db.error().message));
        ConversationStore conversations(*db.value());
        auto docs = documents::DocumentStore::open(m_dir.filePath(QStringLiteral("documents.sqlite3")));
        QVERIFY2(docs, docs ? "" : qPrintable(docs.error().message));
        sessions::SessionSnapshotStore snapshots(m_dir.filePath(QStringLiteral("snapshots")));
        QVERIFY(QDir().mkpath(snapshots.directory()));

        const QString text = m_dir.filePath(QStringLiteral("notes.txt"));
        writeFile(text, "The harbour opens at six.\n\nShips leave at nine.\n");
        auto imported = docs.value()->importFile(text);
        QVERIFY2(imported, imported ? "" : qPrintable(imported.error().message));
        const qint64 documentId = imported->documentId;

        // old: trashed 40 days ago; recent: trashed 2 days ago; live: not trashed
        const qint64 old = conversations.createConversation(QStringLiteral("old")).value();
        const qint64 recent = conversations.createConversation(QStringLiteral("recent")).value();
        const qint64 live = conversations.createConversation(QStringLiteral("live")).value();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (qint64 id : {old, recent, live}) {
            QVERIFY(docs.value()->attach(id, documentId));
            writeFile(snapshots.pathFor(id), "snapshot");
        }
        QVERIFY(conversations.deleteConversation(old));
        QVERIFY(conversations.deleteConversation(recent));
        QVERIFY(db.value()->exec(QStringLiteral("UPDATE conversations SET deleted_at = %1 WHERE id = %2")
                                     .arg(now.addDays(-40).toMSecsSinceEpoch()).arg(old)));
        QVERIFY(db.value()->exec(QStringLiteral("UPDATE conversations SET deleted_at = %1 WHERE id = %2")
                                     .arg(now.addDays(-2).toMSecsSinceEpoch()).arg(recent)));

        auto purged = sessions::purgeOldTrash(conversations, docs.value().get(), &snapshots, now);
        QVERIFY2(purged, purged ? "" : qPrintable(purged.error().message));
        QCOMPARE(purged.value(), QList<qint64>{old});

        QVERIFY(!conversations.conversation(old));                 // gone for good
        QVERIFY(conversations.conversation(recent));               // still in the trash
        QCOMPARE(docs.value()->attachedDocuments(old).value(), QList<qint64>{});
        QCOMPARE(docs.value()->attachedDocuments(recent).value(), QList<qint64>{documentId});
        QCOMPARE(docs.value()->attachedDocuments(live).value(), QList<qint64>{documentId});
        QVERIFY(!QFile::exists(snapshots.pathFor(old)));
        QVERIFY(QFile::exists(snapshots.pathFor(recent)) && QFile::exists(snapshots.pathFor(live)));
        QCOMPARE(docs.value()->documents().value().size(), 1); // the library keeps the document

        // nothing old enough: nothing purged, no error; without documents or snapshots it still purges
        auto again = sessions::purgeOldTrash(conversations, nullptr, nullptr, now);
        QVERIFY(again && again->isEmpty());
        auto later = sessions::purgeOldTrash(conversations, nullptr, nullptr, now.addDays(29));
        QVERIFY(later);
        QCOMPARE(later.value(), QList<qint64>{recent});
        QVERIFY(!conversations.conversation(recent));
    }
};

QTEST_GUILESS_MAIN(TestTrashPurge)
#include "test_trash_purge.moc"
