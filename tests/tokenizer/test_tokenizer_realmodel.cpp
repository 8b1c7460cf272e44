// The default model's own tokenizer metadata must behave exactly like the committed vocab-only copy
// (tests/fixtures/tokenizer/gemma-3-270m.vocab.gguf) that the unit test checks against Hugging Face.
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include "test_paths.h"
#include "v4/tokenizer.h"

class TestTokenizerRealModel : public QObject {
    Q_OBJECT

private slots:
    void defaultModelMatchesVocabFixture() {
        V4_REQUIRE_DEFAULT_MODEL(modelPath);
        const v4::tokenizer model = v4::tokenizer::open(modelPath.toStdString());
        const v4::tokenizer vocab =
            v4::tokenizer::open(v4test::fixturePath(QStringLiteral("tokenizer/gemma-3-270m.vocab.gguf")).toStdString());
        QCOMPARE(model.n_vocab(), vocab.n_vocab());
        QCOMPARE(model.bos(), vocab.bos());
        QCOMPARE(model.eos(), vocab.eos());
        QCOMPARE(model.chat_template(), vocab.chat_template());

        QFile f(v4test::fixturePath(QStringLiteral("tokenizer/strings.json")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonArray strings = QJsonDocument::fromJson(f.readAll()).array();
        QVERIFY(strings.size() >= 300);
        for (const QJsonValue & v : strings) {
            const std::string s = v.toString().toStdString();
            QCOMPARE(model.encode(s, true, true), vocab.encode(s, true, true));
            QCOMPARE(model.encode(s, false, false), vocab.encode(s, false, false));
        }
        for (int32_t id = 0; id < model.n_vocab(); ++id) {
            QCOMPARE(model.token_to_piece(id), vocab.token_to_piece(id));
        }
    }
};

QTEST_GUILESS_MAIN(TestTokenizerRealModel)
#include "test_tokenizer_realmodel.moc"
