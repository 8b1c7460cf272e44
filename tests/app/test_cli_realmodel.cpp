// The v4 command line against the default model (realmodel; skips when the model is absent).
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>

#include "cli_process.h"
#include "test_paths.h"

using v4test::runCli;

class TestCliRealModel : public QObject {
    Q_OBJECT

private slots:
    void runAnswersAndIsReproducible() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        const QStringList args = {QStringLiteral("run"), QStringLiteral("-m"), model, QStringLiteral("-n"), QStringLiteral("48"),
                                  QStringLiteral("--seed"), QStringLiteral("1234"), QStringLiteral("--temp"), QStringLiteral("0.2"),
                                  QStringLiteral("-p"), QStringLiteral("What is the capital of France?")};
        const auto first = runCli(args);
        QVERIFY(first.finished);
        QVERIFY2(first.exitCode == 0, first.err.constData());
        qInfo("reply: %s", first.out.trimmed().constData());
        QVERIFY2(first.out.contains("Paris"), first.out.constData());
        const auto second = runCli(args);
        QCOMPARE(second.exitCode, 0);
        QCOMPARE(second.out, first.out);

        // Greedy also knows.
        const auto greedy = runCli({QStringLiteral("run"), QStringLiteral("-m"), model, QStringLiteral("-n"), QStringLiteral("32"),
                                    QStringLiteral("--temp"), QStringLiteral("0"), QStringLiteral("--verbose"),
                                    QStringLiteral("What is the capital of France?")});
        QCOMPARE(greedy.exitCode, 0);
        QVERIFY2(greedy.out.contains("Paris"), greedy.out.constData());
        QVERIFY2(greedy.err.contains("prompt tokens: ") && greedy.err.contains("decode: "), greedy.err.constData());
    }

    void chatReusesThePrefix() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        const auto r = runCli({QStringLiteral("chat"), QStringLiteral("-m"), model, QStringLiteral("--verbose"),
                               QStringLiteral("--temp"), QStringLiteral("0"), QStringLiteral("-n"), QStringLiteral("40")},
                              "What is the capital of France?\nAnd of Germany?\n/exit\n");
        QVERIFY(r.finished);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QRegularExpression re(QStringLiteral("turn (\\d+) prefill: (\\d+) reused, (\\d+) new tokens \\((\\d+) total\\)"));
        auto       it    = re.globalMatch(QString::fromUtf8(r.err));
        QList<QRegularExpressionMatch> turns;
        while (it.hasNext()) {
            turns.append(it.next());
        }
        QVERIFY2(turns.size() == 2, r.err.constData());
        qInfo("%s", qPrintable(turns[0].captured(0)));
        qInfo("%s", qPrintable(turns[1].captured(0)));
        const int reused = turns[1].captured(2).toInt();
        const int added  = turns[1].captured(3).toInt();
        const int total  = turns[1].captured(4).toInt();
        QVERIFY(reused > 0);
        QVERIFY(added < total);
        QCOMPARE(reused + added, total);
        QVERIFY(total > turns[0].captured(4).toInt());
    }

    void benchJson() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        const auto r = runCli({QStringLiteral("bench"), QStringLiteral("-m"), model, QStringLiteral("-p"), QStringLiteral("64"),
                               QStringLiteral("-n"), QStringLiteral("16"), QStringLiteral("-r"), QStringLiteral("2"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QJsonParseError    error {};
        const QJsonObject  o = QJsonDocument::fromJson(r.out, &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        for (const char * key : {"load_ms", "ttft_ms", "pp_tok_s", "tg_tok_s", "peak_rss_bytes", "n_params"}) {
            QVERIFY2(o.value(QLatin1String(key)).toDouble() > 0, key);
        }
        QCOMPARE(o.value(QStringLiteral("n_prompt")).toInt(), 64);
        QCOMPARE(o.value(QStringLiteral("repetitions")).toInt(), 2);
        qInfo("%s", r.out.simplified().constData());
    }

    void inspectJson() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        const auto r = runCli({QStringLiteral("inspect"), model, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(o.value(QStringLiteral("architecture")).toString(), QStringLiteral("gemma3"));
        QVERIFY(o.value(QStringLiteral("n_params")).toDouble() > 1e8);
        QVERIFY(o.value(QStringLiteral("tokenizer")).toObject().value(QStringLiteral("n_vocab")).toInt() > 200000);
        QVERIFY(!o.value(QStringLiteral("chat_template")).toObject().value(QStringLiteral("template")).toString().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCliRealModel)
#include "test_cli_realmodel.moc"
