// The v4 command line without a model: version, help, usage errors and bad files (unit).
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "cli_process.h"
#include "v4/version.h"

using v4test::runCli;

class TestCli : public QObject {
    Q_OBJECT

private slots:
    void version() {
        const auto r = runCli({QStringLiteral("--version")});
        QVERIFY(r.finished);
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, QByteArray("v4 ") + v4::k_version + '\n');
        QVERIFY(r.err.isEmpty());
    }

    void help() {
        const auto r = runCli({QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        for (const char * cmd : {"inspect", "run", "chat", "bench", "perplexity"}) {
            QVERIFY2(r.out.contains(QByteArray("  ") + cmd + ' '), cmd);
        }
        const auto run = runCli({QStringLiteral("run"), QStringLiteral("--help")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.startsWith("Usage: v4 run"));
        for (const char * opt : {"--temp", "--top-k", "--top-p", "--min-p", "--seed", "--ctx", "--threads", "--raw", "--system"}) {
            QVERIFY2(run.out.contains(opt), opt);
        }
        QCOMPARE(runCli({QStringLiteral("help"), QStringLiteral("bench")}).exitCode, 0);
    }

    void usageErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("no command") << QStringList{} << QByteArray("Usage: v4");
        QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")} << QByteArray("v4: unknown command 'frobnicate'");
        QTest::newRow("unknown option") << QStringList{QStringLiteral("run"), QStringLiteral("--frob"), QStringLiteral("x")}
                                        << QByteArray("v4 run: Unknown option 'frob'");
        QTest::newRow("bad number") << QStringList{QStringLiteral("run"), QStringLiteral("--temp"), QStringLiteral("hot"), QStringLiteral("x")}
                                    << QByteArray("v4 run: --temp wants a number");
        QTest::newRow("no prompt") << QStringList{QStringLiteral("run")} << QByteArray("v4 run: needs the prompt");
        QTest::newRow("inspect without file") << QStringList{QStringLiteral("inspect")} << QByteArray("v4 inspect: expects exactly one FILE");
    }

    void usageErrors() {
        QFETCH(QStringList, args);
        QFETCH(QByteArray, message);
        const auto r = runCli(args);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.startsWith(message), r.err.constData());
        QVERIFY(r.out.isEmpty());
    }

    void badFile_data() {
        QTest::addColumn<QByteArray>("contents");
        QTest::newRow("missing") << QByteArray();
        QTest::newRow("not gguf") << QByteArray("this is not a model file, just some text\n");
        QTest::newRow("truncated header") << QByteArray("GGUF\x03\x00\x00\x00", 8);
        QTest::newRow("absurd counts") << QByteArray("GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f\xff\xff\xff\xff\xff\xff\xff\x7f", 24);
    }

    void badFile() {
        QFETCH(QByteArray, contents);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("bad.gguf"));
        if (!contents.isEmpty()) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(contents);
        }
        for (const QStringList & args : {QStringList{QStringLiteral("inspect"), path},
                                         QStringList{QStringLiteral("run"), QStringLiteral("-m"), path, QStringLiteral("-p"), QStringLiteral("hi")},
                                         QStringList{QStringLiteral("bench"), QStringLiteral("-m"), path, QStringLiteral("--json")}}) {
            const auto r = runCli(args);
            QVERIFY(r.finished);
            QCOMPARE(r.exitCode, 1);
            const QByteArray prefix = "v4: " + QFile::encodeName(path) + ": ";
            QVERIFY2(r.err.startsWith(prefix), r.err.constData());
            QVERIFY2(r.err.count('\n') == 1 && r.err.endsWith('\n'), r.err.constData()); // exactly one line
            QVERIFY(r.err.size() > prefix.size() + 1);                                    // with a message
            QVERIFY(r.out.isEmpty());
        }
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
