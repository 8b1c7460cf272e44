// Runs the built v4chat the way the package test and end users do: --version, --selftest, and
// no display at all (a clear message, not an xcb abort).
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

class TestSelfTest : public QObject {
    Q_OBJECT

    static QProcessEnvironment isolatedEnv(const QTemporaryDir & dir) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("V4_DATA_DIR"), dir.path());
        return env;
    }

private slots:
    void versionPrintsTheProjectVersion() {
        QProcess p;
        p.start(QStringLiteral(V4CHAT_PATH), {QStringLiteral("--version")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(p.readAllStandardOutput().trimmed().startsWith("v4chat 0."));
    }

    void selfTestPassesOffscreen() {
        QTemporaryDir dir;
        QProcess p;
        QProcessEnvironment env = isolatedEnv(dir);
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(V4CHAT_PATH), {QStringLiteral("--selftest")});
        QVERIFY(p.waitForFinished(120000));
        const QByteArray out = p.readAllStandardOutput();
        QVERIFY2(p.exitCode() == 0, out.constData());
        QVERIFY2(out.contains("ok   main window opens"), out.constData());
        QVERIFY2(out.contains("selftest passed"), out.constData());
    }

    void noDisplayExplainsWhatToDo() {
        QTemporaryDir dir;
        QProcess p;
        QProcessEnvironment env = isolatedEnv(dir);
        env.remove(QStringLiteral("DISPLAY"));
        env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        env.remove(QStringLiteral("QT_QPA_PLATFORM"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(V4CHAT_PATH), {});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(p.readAllStandardError().contains("xvfb-run -a v4chat"));
    }
};

QTEST_GUILESS_MAIN(TestSelfTest)
#include "test_selftest.moc"
