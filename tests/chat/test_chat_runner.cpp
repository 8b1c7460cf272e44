// The chat glue on the default model: the built-in User:/Assistant: transcript (the file has no
// template and is a base model), streamed text equal to the result, the transcript's stop string
// ending the turn, the same seed giving the same text, turn two prefilling only its new tokens, and
// a prompt that does not fit the context giving a precise error.
#include <QFileInfo>
#include <QTest>

#include <algorithm>

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

    void rendersTranscriptAndStreams() {
        v4::chat_runner chat(m_model, {.n_ctx = 1024, .n_threads = 2});
        QVERIFY(chat.template_is_builtin());
        QVERIFY(chat.template_choice().reply_after_space);
        const v4::chat_request req = question("What is the capital of France?");
        QCOMPARE(chat.render_prompt(req), std::string("User: What is the capital of France?\nAssistant:"));
        const std::vector<int32_t> tokens = chat.tokenize_prompt(chat.render_prompt(req));
        QCOMPARE(tokens.front(), chat.get_tokenizer().bos()); // the file asks for BOS; the runner adds it
        QCOMPARE(std::count(tokens.begin(), tokens.end(), chat.get_tokenizer().bos()), 1);

        std::string     streamed;
        v4::chat_result r = chat.generate(req, [&](std::string_view piece) { streamed += piece; });
        qInfo("reply: %s", r.text.c_str());
        QCOMPARE(streamed, r.text);
        QVERIFY2(r.text.find("Paris") != std::string::npos, r.text.c_str());
        QVERIFY2(!r.text.starts_with(' '), "the separator after 'Assistant:' is not part of the reply");
        QVERIFY2(r.text.find("User:") == std::string::npos, "the next transcript line is cut off");
        QCOMPARE(r.reason, v4::stop_reason::stop_string);
        QCOMPARE(r.n_prompt, static_cast<uint32_t>(tokens.size()));
        QVERIFY(r.ttft_seconds > 0);
    }

    void systemMessageLeadsTheTranscript() {
        v4::chat_runner  chat(m_model, {.n_ctx = 256, .n_threads = 2});
        v4::chat_request req = question("Hi.");
        req.messages.insert(req.messages.begin(), {"system", "  Be brief. ", ""});
        req.messages.push_back({"assistant", "Hello!", ""});
        req.messages.push_back({"user", "Bye.", ""});
        QCOMPARE(chat.render_prompt(req), std::string("Be brief.\n\nUser: Hi.\nAssistant: Hello!\nUser: Bye.\nAssistant:"));
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
