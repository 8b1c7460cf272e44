// The v4 command line against the default model (realmodel; skips when the model is absent).
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "cli_process.h"
#include "test_paths.h"

using v4test::runCli;

class TestCliRealModel : public QObject {
    Q_OBJECT

private slots:
    // The default model is the pretrained gemma-3-270m (no instruction tuning, no chat template in
    // the file), so `v4 run` puts the question into the built-in User:/Assistant: transcript, which
    // it answers; the transcript's stop string "\nUser:" ends the turn. The model's own answer is
    // the greedy one: which token a seeded draw at the default temperature lands on moves with the
    // last bits of the logits (kernel summation order), so sampling is checked for determinism only.
    // Same seed, same text.
    void runAnswersThroughTheChatTemplate() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        const auto greedy = runCli({QStringLiteral("run"), QStringLiteral("-m"), model, QStringLiteral("-p"),
                                    QStringLiteral("What is the capital of France?"), QStringLiteral("--temp"), QStringLiteral("0")});
        QVERIFY(greedy.finished);
        QVERIFY2(greedy.exitCode == 0, greedy.err.constData());
        qInfo("reply: %s", greedy.out.trimmed().constData());
        QVERIFY2(greedy.out.contains("Paris"), greedy.out.constData());
        QVERIFY2(!greedy.out.contains("User:"), greedy.out.constData()); // the next transcript line is cut off
        const QStringList args = {QStringLiteral("run"), QStringLiteral("-m"), model, QStringLiteral("-p"),
                                  QStringLiteral("What is the capital of France?"), QStringLiteral("--seed"), QStringLiteral("42")};
        const auto first = runCli(args);
        QVERIFY2(first.exitCode == 0, first.err.constData());
        QVERIFY2(!first.out.contains("User:"), first.out.constData());
        const auto second = runCli(args);
        QCOMPARE(second.exitCode, 0);
        QCOMPARE(second.out, first.out);

        // --verbose shows the rendered prompt and the statistics.
        const auto chat = runCli({QStringLiteral("run"), QStringLiteral("-m"), model, QStringLiteral("-n"), QStringLiteral("8"),
                                  QStringLiteral("--temp"), QStringLiteral("0"), QStringLiteral("--verbose"),
                                  QStringLiteral("What is the capital of France?")});
        QVERIFY2(chat.exitCode == 0, chat.err.constData());
        QVERIFY2(chat.err.contains("User: What is the capital of France?\nAssistant:\n"), chat.err.constData());
        QVERIFY2(chat.err.contains("prompt tokens: 13, reused: 0, evaluated: 13"), chat.err.constData());
        QVERIFY2(chat.err.contains("decode: ") && chat.err.contains("ttft: "), chat.err.constData());
    }

    // --raw skips the template; --stop ends the reply before the model invents the next question.
    void rawPromptWithStopString() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        const auto r = runCli({QStringLiteral("run"), QStringLiteral("-m"), model, QStringLiteral("--raw"), QStringLiteral("-n"),
                               QStringLiteral("32"), QStringLiteral("--seed"), QStringLiteral("1234"), QStringLiteral("--temp"),
                               QStringLiteral("0.3"), QStringLiteral("--stop"), QStringLiteral("Question:"), QStringLiteral("-p"),
                               QStringLiteral("Question: What is the capital of France?\nAnswer:")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("Paris"), r.out.constData());
        QVERIFY2(!r.out.contains("Question:"), r.out.constData()); // the stop string is withheld
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
                               QStringLiteral("-n"), QStringLiteral("16"), QStringLiteral("-r"), QStringLiteral("2"),
                               QStringLiteral("--roofline"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QJsonParseError    error {};
        const QJsonObject  o = QJsonDocument::fromJson(r.out, &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        for (const char * key : {"load_ms", "ttft_ms", "pp_tok_s", "tg_tok_s", "peak_rss_bytes", "n_params"}) {
            QVERIFY2(o.value(QLatin1String(key)).toDouble() > 0, key);
        }
        QCOMPARE(o.value(QStringLiteral("n_prompt")).toInt(), 64);
        QCOMPARE(o.value(QStringLiteral("repetitions")).toInt(), 2);
        QVERIFY(o.value(QStringLiteral("weights_resident")).toBool()); // 241 MiB fits any test machine
        // --roofline: each decode run has its own probe, which streams the weights themselves
        const QJsonObject roof = o.value(QStringLiteral("roofline")).toObject();
        const QJsonArray  runs = roof.value(QStringLiteral("decode_runs")).toArray();
        QCOMPARE(runs.size(), 2);
        for (const QJsonValue & run : runs) {
            QVERIFY(run.toObject().value(QStringLiteral("read_bandwidth_gb_s")).toDouble() > 0);
            QVERIFY(run.toObject().value(QStringLiteral("fraction")).toDouble() > 0);
        }
        QVERIFY(roof.value(QStringLiteral("probe_bytes")).toDouble() > 200.0 * (1 << 20));
        QVERIFY(roof.value(QStringLiteral("decode_bytes_per_token")).toDouble() > 200.0 * (1 << 20));
        qInfo("%s", r.out.simplified().constData());
    }

    void perplexityAndKlRoundTrip() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        QFile fixture(v4test::fixturePath(QStringLiteral("logits/gemma-3-270m-q4_k_m.json")));
        QVERIFY(fixture.open(QIODevice::ReadOnly));
        const QString  text = QJsonDocument::fromJson(fixture.readAll()).object().value(QStringLiteral("text")).toString();
        QTemporaryDir dir;
        const QString textPath = dir.filePath(QStringLiteral("text.txt"));
        const QString basePath = dir.filePath(QStringLiteral("base.bin"));
        QFile         f(textPath);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text.toUtf8());
        f.close();

        const auto base = runCli({QStringLiteral("perplexity"), QStringLiteral("-m"), model, QStringLiteral("--ctx"),
                                  QStringLiteral("128"), QStringLiteral("--chunks"), QStringLiteral("2"),
                                  QStringLiteral("--kl-base"), basePath, textPath});
        QVERIFY2(base.exitCode == 0, base.err.constData());
        const QRegularExpression pplRe(QStringLiteral("PPL = ([0-9.]+) \\+/- "));
        const auto               ppl = pplRe.match(QString::fromUtf8(base.out));
        QVERIFY2(ppl.hasMatch(), base.out.constData());
        qInfo("%s", base.out.split('\n').first().constData());
        // transformers scores this text at about 20-30 per token for this model; garbage is thousands.
        QVERIFY(ppl.captured(1).toDouble() > 1.0 && ppl.captured(1).toDouble() < 100.0);
        // 40-byte header + 2 chunks x 63 scored tokens x (8 + 32 x 8) bytes.
        QCOMPARE(QFileInfo(basePath).size(), qint64(40 + 2 * 63 * (8 + 32 * 8)));

        // The same model against itself: no divergence, same top-1 everywhere.
        const auto cmp = runCli({QStringLiteral("perplexity"), QStringLiteral("-m"), model, QStringLiteral("-f"), textPath,
                                 QStringLiteral("--kl-compare"), basePath});
        QVERIFY2(cmp.exitCode == 0, cmp.err.constData());
        QVERIFY2(cmp.out.contains("mean KL = 0.0000"), cmp.out.constData());
        QVERIFY2(cmp.out.contains("same top-1 = 100.00 %"), cmp.out.constData());

        // A base made from other text is refused with one line.
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text.toUtf8().toUpper());
        f.close();
        const auto other = runCli({QStringLiteral("perplexity"), QStringLiteral("-m"), model, QStringLiteral("-f"), textPath,
                                   QStringLiteral("--kl-compare"), basePath});
        QCOMPARE(other.exitCode, 1);
        QVERIFY2(other.err.contains("made from another text"), other.err.constData());
    }

    void inspectJson() {
        V4_REQUIRE_DEFAULT_MODEL(model);
        const auto r = runCli({QStringLiteral("inspect"), model, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(o.value(QStringLiteral("architecture")).toString(), QStringLiteral("gemma3"));
        QVERIFY(o.value(QStringLiteral("n_params")).toDouble() > 1e8);
        QVERIFY(o.value(QStringLiteral("tokenizer")).toObject().value(QStringLiteral("n_vocab")).toInt() > 200000);
        const QJsonObject ct = o.value(QStringLiteral("chat_template")).toObject();
        QVERIFY(!ct.value(QStringLiteral("template")).toString().isEmpty());
        QVERIFY(ct.value(QStringLiteral("builtin")).toBool());
        const QString why = ct.value(QStringLiteral("description")).toString();
        QVERIFY2(why.contains(QStringLiteral("transcript")) && why.contains(QStringLiteral("base model")), qPrintable(why));
    }
};

QTEST_GUILESS_MAIN(TestCliRealModel)
#include "test_cli_realmodel.moc"
