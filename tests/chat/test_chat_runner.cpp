// The chat glue on the default model: a sensible answer through the (built-in) chat template,
// the same seed giving the same text, turn two prefilling only its new tokens, and a prompt that
// does not fit the context giving a precise error.
#include <QFileInfo>
#include <QTest>

#include "test_paths.h"
#include "v4/chat.h"
#include "v4/error.h"

class TestChatRunner : public QObject {
    Q_OBJECT

    std::shared_ptr<const v4::model> m_model;

    static v4::chat_request question(const std::string & text) {
        v4::chat_request r;
        r.messages   = {{"user", text, ""}};
        r.sampling   = v4::sampler_greedy_params();
        r.max_tokens = 48;
        return r;
    }

private slots:
    void initTestCase() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        m_model = v4::model::load(path.toStdString());
    }

    void answersTheCapitalOfFrance() {
        v4::chat_runner   chat(m_model, {.n_ctx = 1024, .n_threads = 2});
        std::string       streamed;
        v4::chat_result   r = chat.generate(question("What is the capital of France?"),
                                            [&](std::string_view piece) { streamed += piece; });
        qInfo("answer: %s", r.text.c_str());
        QCOMPARE(streamed, r.text);
        QVERIFY2(r.text.find("Paris") != std::string::npos, r.text.c_str());
        QVERIFY(r.n_generated > 0);
        QVERIFY(r.ttft_seconds > 0);
    }

    void sameSeedSameText() {
        v4::chat_request req = question("Write one sentence about the sea.");
        req.sampling         = v4::sampler_default_params();
        req.sampling.seed    = 1234;
        v4::chat_runner a(m_model, {.n_ctx = 512, .n_threads = 2});
        v4::chat_runner b(m_model, {.n_ctx = 512, .n_threads = 2});
        QCOMPARE(a.generate(req, {}).text, b.generate(req, {}).text);
    }

    void secondTurnPrefillsOnlyNewTokens() {
        v4::chat_runner  chat(m_model, {.n_ctx = 1024, .n_threads = 2});
        v4::chat_request req = question("Name a colour.");
        req.max_tokens       = 12;
        const v4::chat_result first = chat.generate(req, {});
        req.messages.push_back({"assistant", first.text, ""});
        req.messages.push_back({"user", "Name another one.", ""});
        const v4::chat_result second = chat.generate(req, {});
        qInfo("turn 1: %u prompt tokens; turn 2: %u prompt tokens, %u reused, %u evaluated", first.n_prompt,
              second.n_prompt, second.n_reused, second.n_evaluated);
        QVERIFY(second.n_reused >= first.n_prompt);
        QCOMPARE(second.n_reused + second.n_evaluated, second.n_prompt);
        QVERIFY(second.n_evaluated < second.n_prompt / 2);
    }

    void promptLongerThanContextIsAnError() {
        v4::chat_runner chat(m_model, {.n_ctx = 64, .n_threads = 2});
        std::string     longText;
        for (int i = 0; i < 200; ++i) longText += "word ";
        try {
            chat.generate(question(longText), {});
            QFAIL("expected a context_overflow error");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::context_overflow);
            QVERIFY2(std::string(e.what()).find("context holds 64") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestChatRunner)
#include "test_chat_runner.moc"
