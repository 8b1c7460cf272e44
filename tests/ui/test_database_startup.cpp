// Startup with a damaged or foreign database: the user is asked; "Quit" leaves the file alone,
// "Move aside" renames it with a timestamp and starts with an empty database. Never overwritten.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "DatabaseStartup.h"

using namespace v4app;

class TestDatabaseStartup : public QObject {
    Q_OBJECT

    static DatabaseStartupUi scripted(DamagedDatabaseChoice choice, int * asked, QStringList * told) {
        DatabaseStartupUi ui;
        ui.askDamaged = [=](const StorageError &) {
            ++*asked;
            return choice;
        };
        ui.tell = [=](const QString & title, const QString & text) { *told << title + QStringLiteral(": ") + text; };
        return ui;
    }

    static void writeGarbage(const QString & path) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(8192, 'Z'));
    }

private slots:
    void quitLeavesTheFileUntouched() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("conversations.sqlite3"));
        writeGarbage(path);
        int         asked = 0;
        QStringList told;
        QVERIFY(!openConversationDatabase(path, scripted(DamagedDatabaseChoice::Quit, &asked, &told)));
        QCOMPARE(asked, 1);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray(8192, 'Z'));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 1);
    }

    void moveAsideKeepsTheOldFileAndStartsFresh() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("conversations.sqlite3"));
        writeGarbage(path);
        int         asked = 0;
        QStringList told;
        auto db = openConversationDatabase(path, scripted(DamagedDatabaseChoice::MoveAsideAndStartFresh, &asked, &told));
        QVERIFY(db);
        QCOMPARE(db->integrityCheck().value(), QStringList{QStringLiteral("ok")});
        const QStringList aside = QDir(dir.path()).entryList({QStringLiteral("conversations.sqlite3.corrupt-*")}, QDir::Files);
        QCOMPARE(aside.size(), 1);
        QFile f(dir.filePath(aside.first()));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray(8192, 'Z'));
        QVERIFY2(told.size() == 1 && told.first().contains(aside.first()), qPrintable(told.join(QLatin1Char('\n'))));
    }

    void unreadableFolderIsExplainedNotMovedAside() {
        if (geteuid() == 0) {
            QSKIP("root can write anywhere; the permission case cannot be staged");
        }
        QTemporaryDir dir;
        QDir(dir.path()).mkdir(QStringLiteral("locked"));
        QFile::setPermissions(dir.filePath(QStringLiteral("locked")), QFileDevice::ReadOwner);
        int         asked = 0;
        QStringList told;
        QVERIFY(!openConversationDatabase(dir.filePath(QStringLiteral("locked/c.sqlite3")),
                                          scripted(DamagedDatabaseChoice::MoveAsideAndStartFresh, &asked, &told)));
        QCOMPARE(asked, 0);
        QCOMPARE(told.size(), 1);
    }
};

QTEST_MAIN(TestDatabaseStartup)
#include "test_database_startup.moc"
