// EndpointPresets, URL building, Retry-After, key redaction and model-list parsing: pure functions.
#include "backends/EndpointPresets.h"
#include "backends/ImageAttachments.h"
#include "backends/ModelList.h"
#include "backends/RemoteBackend.h"

#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QTest>

using namespace v4app;

namespace {

ChatRequest sampleRequest(bool thinking) {
    ChatRequest r;
    r.messages = {{QStringLiteral("system"), QStringLiteral("Be brief."), {}},
                  {QStringLiteral("user"), QStringLiteral("Hi"), {}},
                  {QStringLiteral("assistant"), QStringLiteral("Hello"), QStringLiteral("earlier reasoning")},
                  {QStringLiteral("user"), QStringLiteral("2+2?"), {}}};
    r.thinking = thinking;
    r.maxTokens = 321;
    r.sampling.seed = 42;
    return r;
}

} // namespace

class TestEndpointPresets : public QObject {
    Q_OBJECT

private slots:
    void everyBodyStreamsWithUsage() {
        for (const EndpointPresetInfo & info : endpointPresets()) {
            const QJsonObject body = buildChatCompletionBody(info.preset, sampleRequest(false), QStringLiteral("m"));
            QCOMPARE(body.value("stream").toBool(), true);
            QCOMPARE(body.value("stream_options").toObject().value("include_usage").toBool(), true);
            QCOMPARE(body.value("model").toString(), QStringLiteral("m"));
            const QJsonArray messages = body.value("messages").toArray();
            QCOMPARE(messages.size(), 4);
            QCOMPARE(messages[2].toObject().value("role").toString(), QStringLiteral("assistant"));
            // No built-in preset sends earlier reasoning back in plain chat.
            QVERIFY(!messages[2].toObject().contains("reasoning_content"));
            QCOMPARE(endpointPresetFromId(info.id), info.preset);
        }
        QCOMPARE(endpointPresetFromId(QStringLiteral("nonsense")), EndpointPreset::Custom);
    }

    void reasoningSentBackOnlyWhenAsked() {
        const QJsonObject body = buildChatCompletionBody(EndpointPreset::Custom, sampleRequest(true), QStringLiteral("m"),
                                                         ChatBodyOptions{true, {}});
        const QJsonArray  messages = body.value("messages").toArray();
        QCOMPARE(messages[2].toObject().value("reasoning_content").toString(), QStringLiteral("earlier reasoning"));
        QVERIFY(!messages[1].toObject().contains("reasoning_content"));
    }

    void deepSeekLegacyModelsSwitchByThinking() {
        QCOMPARE(resolveModel(EndpointPreset::DeepSeek, "deepseek-chat", true), QStringLiteral("deepseek-reasoner"));
        QCOMPARE(resolveModel(EndpointPreset::DeepSeek, "deepseek-reasoner", false), QStringLiteral("deepseek-chat"));
        QCOMPARE(resolveModel(EndpointPreset::DeepSeek, "deepseek-chat", false), QStringLiteral("deepseek-chat"));
        QCOMPARE(resolveModel(EndpointPreset::VLLM, "deepseek-chat", true), QStringLiteral("deepseek-chat"));
        const QJsonObject legacy = buildChatCompletionBody(EndpointPreset::DeepSeek, sampleRequest(true), "deepseek-reasoner");
        QVERIFY(!legacy.contains("thinking"));
        QVERIFY(!legacy.contains("temperature")); // ignored in thinking mode: not sent
        QCOMPARE(legacy.value("max_tokens").toInt(), 321);
        QVERIFY(!legacy.contains("top_k"));
    }

    void deepSeekNewModelsGetThinkingObject() {
        const QJsonObject on = buildChatCompletionBody(EndpointPreset::DeepSeek, sampleRequest(true), "deepseek-v4-flash");
        QCOMPARE(on.value("thinking").toObject().value("type").toString(), QStringLiteral("enabled"));
        const QJsonObject off = buildChatCompletionBody(EndpointPreset::DeepSeek, sampleRequest(false), "deepseek-v4-flash");
        QCOMPARE(off.value("thinking").toObject().value("type").toString(), QStringLiteral("disabled"));
        QVERIFY(off.contains("temperature"));
    }

    void vllmAndSglangUseChatTemplateKwargs() {
        for (EndpointPreset p : {EndpointPreset::VLLM, EndpointPreset::SGLang}) {
            const QJsonObject body = buildChatCompletionBody(p, sampleRequest(true), "Qwen/Qwen3-8B");
            const QJsonObject kwargs = body.value("chat_template_kwargs").toObject();
            QCOMPARE(kwargs.value("enable_thinking").toBool(), true);
            QCOMPARE(kwargs.value("thinking").toBool(), true);
            QCOMPARE(body.value("top_k").toInt(), 40);
            QVERIFY(body.contains("min_p"));
            QVERIFY(body.contains("repetition_penalty"));
            QCOMPARE(body.value("seed").toInt(), 42);
            const QJsonObject off = buildChatCompletionBody(p, sampleRequest(false), "Qwen/Qwen3-8B");
            QCOMPARE(off.value("chat_template_kwargs").toObject().value("enable_thinking").toBool(true), false);
        }
    }

    void llamaCppUsesReasoningFormat() {
        const QJsonObject body = buildChatCompletionBody(EndpointPreset::LlamaCpp, sampleRequest(false), "any");
        QCOMPARE(body.value("reasoning_format").toString(), QStringLiteral("deepseek"));
        QCOMPARE(body.value("chat_template_kwargs").toObject().value("enable_thinking").toBool(true), false);
        QVERIFY(body.contains("repeat_penalty"));
    }

    void openAiReasoningEffortOnlyForReasoningModels() {
        QVERIFY(isOpenAiReasoningModel("o3-mini"));
        QVERIFY(isOpenAiReasoningModel("gpt-5"));
        QVERIFY(!isOpenAiReasoningModel("gpt-4o"));
        QVERIFY(!isOpenAiReasoningModel("omni"));
        const QJsonObject o3 = buildChatCompletionBody(EndpointPreset::OpenAI, sampleRequest(true), "o3-mini");
        QCOMPARE(o3.value("reasoning_effort").toString(), QStringLiteral("high"));
        QVERIFY(!o3.contains("temperature"));
        QCOMPARE(o3.value("max_completion_tokens").toInt(), 321);
        QVERIFY(!o3.contains("max_tokens"));
        const QJsonObject gpt4 = buildChatCompletionBody(EndpointPreset::OpenAI, sampleRequest(true), "gpt-4o");
        QVERIFY(!gpt4.contains("reasoning_effort"));
        QVERIFY(gpt4.contains("temperature"));
        QVERIFY(!gpt4.contains("top_k")); // OpenAI rejects unknown sampling fields
    }

    void customSendsOnlyStandardFieldsPlusExtra() {
        QJsonObject extra{{"top_k", 5}, {"temperature", 0.1}};
        const QJsonObject body =
            buildChatCompletionBody(EndpointPreset::Custom, sampleRequest(true), "m", ChatBodyOptions{false, extra});
        QVERIFY(!body.contains("chat_template_kwargs"));
        QVERIFY(!body.contains("thinking"));
        QCOMPARE(body.value("top_k").toInt(), 5);
        QCOMPARE(body.value("temperature").toDouble(), 0.1);
    }

    void endpointUrls_data() {
        QTest::addColumn<QString>("base");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bare host") << "https://api.deepseek.com" << "https://api.deepseek.com/v1/chat/completions";
        QTest::newRow("v1") << "https://api.openai.com/v1" << "https://api.openai.com/v1/chat/completions";
        QTest::newRow("v1 slash") << "http://127.0.0.1:8000/v1/" << "http://127.0.0.1:8000/v1/chat/completions";
        QTest::newRow("full url pasted") << "http://127.0.0.1:8080/v1/chat/completions"
                                         << "http://127.0.0.1:8080/v1/chat/completions";
        QTest::newRow("prefix path") << "https://openrouter.ai/api/v1" << "https://openrouter.ai/api/v1/chat/completions";
        QTest::newRow("v1beta") << "https://example.com/v1beta/openai" << "https://example.com/v1beta/openai/chat/completions";
    }
    void endpointUrls() {
        QFETCH(QString, base);
        QFETCH(QString, expected);
        QCOMPARE(RemoteBackend::endpointUrl(QUrl(base), "chat/completions").toString(), expected);
    }

    void retryAfter() {
        const QDateTime now = QDateTime(QDate(2015, 10, 21), QTime(7, 28, 0), QTimeZone::utc());
        QCOMPARE(RemoteBackend::parseRetryAfter("1", now), 1);
        QCOMPARE(RemoteBackend::parseRetryAfter(" 120 ", now), 120);
        QCOMPARE(RemoteBackend::parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30);
        QCOMPARE(RemoteBackend::parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0); // in the past
        QCOMPARE(RemoteBackend::parseRetryAfter("", now), -1);
        QCOMPARE(RemoteBackend::parseRetryAfter("soon", now), -1);
        QCOMPARE(RemoteBackend::parseRetryAfter("-5", now), -1);
    }

    void keyRedaction() {
        const QString key = QStringLiteral("sk-test-0123456789abcdef");
        const QString text = RemoteBackend::redactKey(
            QStringLiteral("Incorrect API key provided: sk-test-0123456789abcdef; hint sk-test-***abcdef"), key);
        QVERIFY(!text.contains(key));
        QVERIFY(!text.contains(QLatin1String("abcdef")));
        QVERIFY(text.contains(QLatin1String("[API key]")));
    }

    void modelIds() {
        QString why;
        QCOMPARE(parseModelIds(R"({"object":"list","data":[{"id":"b"},{"id":"a"},{"id":"b"}]})", &why),
                 QStringList({"a", "b"}));
        QVERIFY(why.isEmpty());
        QCOMPARE(parseModelIds(R"({"models":[{"name":"llama3:8b"}]})"), QStringList({"llama3:8b"}));
        QVERIFY(parseModelIds("<html>", &why).isEmpty());
        QVERIFY(!why.isEmpty());
        QVERIFY(parseModelIds(R"({"foo":1})", &why).isEmpty());
        QVERIFY(why.contains(QLatin1String("data")));
    }

    void imageFilesLoadByContentNotName() {
        QTemporaryDir dir;
        auto write = [&](const QString & name, const QByteArray & bytes) {
            QFile f(dir.filePath(name));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bytes);
        };
        write(QStringLiteral("photo.jpg.png"), QByteArray("\xff\xd8\xff\xe0 jpeg body", 14));
        write(QStringLiteral("notes.png"), "just text");
        write(QStringLiteral("big.png"), QByteArray("\x89PNG\r\n\x1a\n", 8) + QByteArray(kMaxImageBytes, '\0'));

        ChatAttachment a;
        QString        error;
        QVERIFY(loadImageAttachment(dir.filePath(QStringLiteral("photo.jpg.png")), &a, &error));
        QCOMPARE(a.mimeType, QStringLiteral("image/jpeg"));
        QCOMPARE(a.fileName, QStringLiteral("photo.jpg.png"));
        QVERIFY(!loadImageAttachment(dir.filePath(QStringLiteral("notes.png")), &a, &error));
        QVERIFY2(error.contains(QLatin1String("only PNG and JPEG")), qPrintable(error));
        QVERIFY(!loadImageAttachment(dir.filePath(QStringLiteral("big.png")), &a, &error));
        QVERIFY2(error.contains(QLatin1String("at most 10.0 MB")), qPrintable(error));
        QVERIFY(!loadImageAttachment(dir.filePath(QStringLiteral("missing.png")), &a, &error));
        QVERIFY2(error.contains(QLatin1String("does not exist")), qPrintable(error));
    }

    void requestImagesAreLimitedTogether() {
        const ChatAttachment nine{QStringLiteral("a.png"), QStringLiteral("image/png"),
                                  QByteArray("\x89PNG\r\n\x1a\n", 8) + QByteArray(9 * 1024 * 1024, '\0')};
        QVector<ChatMessage> messages{{QStringLiteral("user"), QStringLiteral("one"), {}, {nine, nine}}};
        QVERIFY(checkImageAttachments(messages).isEmpty());
        messages.append({QStringLiteral("user"), QStringLiteral("two"), {}, {nine}});
        QVERIFY(checkImageAttachments(messages).contains(QLatin1String("add up to")));
    }
};

QTEST_APPLESS_MAIN(TestEndpointPresets)
#include "test_endpoint_presets.moc"
