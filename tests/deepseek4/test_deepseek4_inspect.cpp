// `v4 inspect` on the tiny DeepSeek-V4 GGUF fixtures (tools/reference/convert_deepseek4_gguf.py):
// the file opens with its stand-in vocabulary and the report shows the layer schedule, the experts
// and the activated parameters.
#include <QTest>

#include "cli_process.h"
#include "test_paths.h"

using v4test::runCli;

class TestDeepseek4Inspect : public QObject {
    Q_OBJECT

private slots:
    void inspect_shows_schedule_experts_and_activated_parameters_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QByteArrayList>("lines");
        QTest::newRow("mixed4") << QStringLiteral("mixed4")
                                << QByteArrayList{"architecture:   deepseek4",
                                                  "schedule L0-3: SWA/hash CSA4/hash HCA128/learned CSA4/learned",
                                                  "attention: 2 CSA (ratio 4, indexer 8 heads x 32, top-8), 1 HCA (ratio 128), 1 SWA-only",
                                                  "experts: 6 routed (top-2) + 1 shared, width 32; 2 hash-routed layers, 2 learned",
                                                  "parameters: 382681 total, 268057 activated per token (70.0 %)",
                                                  "tokenizer:      gpt2, 256 tokens"};
        QTest::newRow("hca_first3") << QStringLiteral("hca_first3")
                                    << QByteArrayList{"architecture:   deepseek4",
                                                      "schedule L0-2: HCA128/hash CSA4/learned SWA/learned",
                                                      "experts: 6 routed (top-3) + 1 shared, width 24; 1 hash-routed layers, 2 learned",
                                                      "parameters: 304303 total, 223759 activated per token (73.5 %)",
                                                      "tokenizer:      gpt2, 192 tokens"};
    }

    void inspect_shows_schedule_experts_and_activated_parameters() {
        QFETCH(QString, fixture);
        QFETCH(QByteArrayList, lines);
        const QString path = v4test::fixturePath(QStringLiteral("deepseek4/%1/model.gguf").arg(fixture));
        const auto r = runCli({QStringLiteral("inspect"), path});
        QVERIFY(r.finished);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        for (const QByteArray & line : lines) QVERIFY2(r.out.contains(line), (line + "\nnot in:\n" + r.out).constData());
    }
};

QTEST_GUILESS_MAIN(TestDeepseek4Inspect)
#include "test_deepseek4_inspect.moc"
