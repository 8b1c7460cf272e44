// Acceptance: kill -9 of v4chat during a streaming answer. The real app (offscreen) sends one
// message to the default model; once part of the answer is on disk the test SIGKILLs it, starts
// it again on the same data folder, and checks that the database passes integrity_check, the
// conversation is intact and the partial answer is there, marked interrupted.
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include "storage/ConversationStore.h"
#include "test_paths.h"

class TestKillDuringAnswer : public QObject {
    Q_OBJECT

    // Read-only peek at the app's database while it runs (no marker, no writes).
    static int streamedChars(const QString & dbPath) {
        sqlite3 * db = nullptr;
        int       chars = -1;
        if (sqlite3_open_v2(dbPath.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 200);
            sqlite3_stmt * stmt = nullptr;
            if (sqlite3_prepare_v2(db, "SELECT length(content) FROM messages WHERE role = 'assistant' AND status = 'streaming'", -1,
                                   &stmt, nullptr) == SQLITE_OK &&
                sqlite3_step(stmt) == SQLITE_ROW) {
                chars = sqlite3_column_int(stmt, 0);
            }
            sqlite3_finalize(stmt);
        }
        sqlite3_close(db);
        return chars;
    }

    static bool answerEnded(const QString & dbPath) {
        sqlite3 * db = nullptr;
        bool      ended = false;
        if (sqlite3_open_v2(dbPath.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 200);
            sqlite3_stmt * stmt = nullptr;
            ended = sqlite3_prepare_v2(db, "SELECT 1 FROM messages WHERE role = 'assistant' AND status <> 'streaming'", -1, &stmt,
                                       nullptr) == SQLITE_OK &&
                    sqlite3_step(stmt) == SQLITE_ROW;
            sqlite3_finalize(stmt);
        }
        sqlite3_close(db);
        return ended;
    }

private slots:
    void killNineMidAnswerThenRestart() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        QTemporaryDir data;
        QFile settings(data.filePath(QStringLiteral("settings.ini")));
        QVERIFY(settings.open(QIODevice::WriteOnly));
        settings.write(QStringLiteral("[setup]\ncompleted=true\nmodelPath=%1\n").arg(model).toUtf8());
        settings.close();

        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("V4_DATA_DIR"), data.path());
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        const QString dbPath = data.filePath(QStringLiteral("v4chat.sqlite3"));

        // The default model is a base model: its answers are often short. Kill as soon as some of
        // the answer is on disk; if one finished before that, start over with a fresh database.
        const QString question = QStringLiteral("Write a very long essay about the history of lighthouses, with many paragraphs.");
        bool          killed   = false;
        for (int attempt = 0; attempt < 6 && !killed; ++attempt) {
            for (const QString & f : QDir(data.path()).entryList({QStringLiteral("v4chat.sqlite3*")}, QDir::Files)) {
                QFile::remove(data.filePath(f));
            }
            QProcess app;
            app.setProcessEnvironment(env);
            app.setProcessChannelMode(QProcess::MergedChannels);
            app.start(QStringLiteral(V4CHAT_PATH), {QStringLiteral("--dev-send"), question});
            QVERIFY(app.waitForStarted());
            int state = 0; // 1: streaming text on disk, 2: the answer ended first
            // The verdict is checked just below, from the process state and `state`.
            (void)QTest::qWaitFor([&] {
                state = streamedChars(dbPath) > 0 ? 1 : answerEnded(dbPath) ? 2 : 0;
                return state != 0 || app.state() == QProcess::NotRunning;
            }, 240000);
            QVERIFY2(app.state() == QProcess::Running && state != 0, app.readAll().constData());
            app.kill(); // SIGKILL: no chance to flush or close anything
            QVERIFY(app.waitForFinished(10000));
            QCOMPARE(app.exitStatus(), QProcess::CrashExit);
            killed = state == 1;
        }
        QVERIFY2(killed, "every answer finished before any of it reached the disk");
        QVERIFY(QFileInfo::exists(v4app::Database::markerPath(dbPath))); // it really died holding the file

        // Restart: the app opens the file, marks the cut-off answer and quits.
        QProcess again;
        again.setProcessEnvironment(env);
        again.setProcessChannelMode(QProcess::MergedChannels);
        again.start(QStringLiteral(V4CHAT_PATH), {QStringLiteral("--dev-quit-after-start")});
        QVERIFY(again.waitForFinished(60000));
        QVERIFY2(again.exitStatus() == QProcess::NormalExit && again.exitCode() == 0, again.readAll().constData());

        auto db = v4app::Database::open(dbPath);
        QVERIFY2(db, db ? "" : qPrintable(db.error().message));
        QCOMPARE(db.value()->integrityCheck().value(), QStringList{QStringLiteral("ok")});
        v4app::ConversationStore store(*db.value());
        const auto conversations = store.listConversations().value();
        QCOMPARE(conversations.size(), 1);
        const auto branch = store.activeBranch(conversations.first().id).value();
        QCOMPARE(branch.size(), 2);
        QCOMPARE(branch.first().content, question);
        QCOMPARE(branch.last().status, v4app::MessageStatus::Interrupted);
        QVERIFY(!branch.last().content.isEmpty());
        qInfo("partial answer kept (%d chars): %s", static_cast<int>(branch.last().content.size()),
              qPrintable(branch.last().content.left(80)));
    }
};

QTEST_MAIN(TestKillDuringAnswer)
#include "test_kill_during_answer.moc"
