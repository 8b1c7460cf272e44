// choose_chat_template: the file's own template wins; instruction-tuned files without one get their
// architecture's turn format; base models get the User:/Assistant: transcript with its stop strings.
#include <QTest>

#include "v4/chat.h"
#include "v4/error.h"

namespace {

v4::model_identity identity(std::string arch, std::string name, std::string finetune = {}, std::string file = "m.gguf") {
    return {std::move(arch), std::move(name), std::move(finetune), /*basename=*/{}, std::move(file)};
}

bool contains(const std::string & text, const char * part) { return text.find(part) != std::string::npos; }

} // namespace

class TestTemplateChoice : public QObject {
    Q_OBJECT

private slots:
    void fileTemplateWins() {
        const v4::chat_template_choice c = v4::choose_chat_template(identity("gemma3", "Gemma 3 270m"), "{{ messages[0]['content'] }}");
        QVERIFY(!c.builtin);
        QCOMPARE(c.source, std::string("{{ messages[0]['content'] }}"));
        QVERIFY(c.stop.empty());
        QVERIFY(!c.reply_after_space);
        QVERIFY(contains(c.reason, "from the file"));
    }

    void baseModelGetsTranscript() {
        // What the default model's file holds: no finetune, name "Gemma 3 270m", basename "gemma-3".
        v4::model_identity id = identity("gemma3", "Gemma 3 270m", "", "gemma-3-270m-q4_k_m.gguf");
        id.basename           = "gemma-3";
        const v4::chat_template_choice c = v4::choose_chat_template(id, "");
        QVERIFY(c.builtin);
        QVERIFY(c.reply_after_space);
        QCOMPARE(c.stop, (std::vector<std::string>{"\nUser:", "\nAssistant:"}));
        QVERIFY2(contains(c.reason, "base model") && contains(c.reason, "'Gemma 3 270m'"), c.reason.c_str());
        const v4::chat_template t = v4::chat_template::parse(c.source);
        QCOMPARE(t.render({{"user", "Hi?", ""}}, {}), std::string("User: Hi?\nAssistant:"));
        // Any architecture: a transcript needs no control tokens.
        QVERIFY(v4::choose_chat_template(identity("deepseek4", "V4 base"), "").builtin);
    }

    void instructModelGetsTurnFormat_data() {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("finetune");
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("marker");
        QTest::newRow("gemma finetune it") << "gemma3" << "Gemma 3 270m It" << "it" << "x.gguf" << "<start_of_turn>";
        QTest::newRow("qwen name Instruct") << "qwen2" << "Qwen2.5 0.5B Instruct" << "" << "x.gguf" << "<|im_start|>";
        QTest::newRow("llama file name") << "llama" << "" << "" << "Llama-3.2-1B-Instruct-Q4_K_M.gguf" << "<|start_header_id|>";
        QTest::newRow("qwen3 chat") << "qwen3" << "Qwen3 Chat" << "" << "x.gguf" << "<|im_start|>";
    }
    void instructModelGetsTurnFormat() {
        QFETCH(QString, arch);
        QFETCH(QString, name);
        QFETCH(QString, finetune);
        QFETCH(QString, file);
        QFETCH(QString, marker);
        const v4::chat_template_choice c = v4::choose_chat_template(
            identity(arch.toStdString(), name.toStdString(), finetune.toStdString(), file.toStdString()), "");
        QVERIFY(c.builtin);
        QVERIFY(c.stop.empty());
        QVERIFY2(contains(c.source, marker.toUtf8().constData()), c.source.c_str());
        QVERIFY2(contains(c.reason, "instruction-tuned"), c.reason.c_str());
    }

    void wordsNotSubstrings() {
        // "it" inside "Digital" or "Summit" is not the instruction-tuning marker.
        QVERIFY(!v4::choose_chat_template(identity("llama", "Digital Summit 1B"), "").stop.empty());
    }

    void instructWithoutBuiltinIsAnError() {
        try {
            v4::choose_chat_template(identity("deepseek4", "V4 Instruct"), "");
            QFAIL("expected an unsupported error");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::unsupported);
            QVERIFY2(contains(e.what(), "deepseek4"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestTemplateChoice)
#include "test_template_choice.moc"
