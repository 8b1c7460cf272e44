#include "backends/EndpointPresets.h"

#include "backends/ImageAttachments.h"

#include <QJsonArray>

namespace v4app {

const QList<EndpointPresetInfo> & endpointPresets() {
    static const QList<EndpointPresetInfo> presets = {
        {EndpointPreset::Custom, QStringLiteral("custom"), QStringLiteral("Custom (OpenAI-compatible)"), QUrl(),
         QString(), false},
        {EndpointPreset::DeepSeek, QStringLiteral("deepseek"), QStringLiteral("DeepSeek API"),
         QUrl(QStringLiteral("https://api.deepseek.com")), QStringLiteral("deepseek-chat"), true},
        {EndpointPreset::OpenAI, QStringLiteral("openai"), QStringLiteral("OpenAI"),
         QUrl(QStringLiteral("https://api.openai.com/v1")), QStringLiteral("gpt-4o-mini"), true},
        {EndpointPreset::VLLM, QStringLiteral("vllm"), QStringLiteral("vLLM server"),
         QUrl(QStringLiteral("http://127.0.0.1:8000/v1")), QString(), false},
        {EndpointPreset::SGLang, QStringLiteral("sglang"), QStringLiteral("SGLang server"),
         QUrl(QStringLiteral("http://127.0.0.1:30000/v1")), QString(), false},
        {EndpointPreset::LlamaCpp, QStringLiteral("llamacpp"), QStringLiteral("llama.cpp server"),
         QUrl(QStringLiteral("http://127.0.0.1:8080/v1")), QString(), false},
    };
    return presets;
}

EndpointPresetInfo endpointPresetInfo(EndpointPreset preset) {
    for (const EndpointPresetInfo & info : endpointPresets()) {
        if (info.preset == preset) {
            return info;
        }
    }
    return endpointPresets().front();
}

EndpointPreset endpointPresetFromId(const QString & id) {
    for (const EndpointPresetInfo & info : endpointPresets()) {
        if (info.id.compare(id, Qt::CaseInsensitive) == 0) {
            return info.preset;
        }
    }
    return EndpointPreset::Custom;
}

QString resolveModel(EndpointPreset preset, const QString & model, bool thinking) {
    if (preset == EndpointPreset::DeepSeek) {
        if (model == QLatin1String("deepseek-chat") && thinking) {
            return QStringLiteral("deepseek-reasoner");
        }
        if (model == QLatin1String("deepseek-reasoner") && !thinking) {
            return QStringLiteral("deepseek-chat");
        }
    }
    return model;
}

bool presetPassesReasoningBack(EndpointPreset) {
    return false;
}

bool isOpenAiReasoningModel(const QString & model) {
    // o1, o1-mini, o3, o3-mini, o4-mini, gpt-5, gpt-5-mini, ... (and "openai/o3" style prefixes)
    const QString name = model.section(QLatin1Char('/'), -1).toLower();
    if (name.size() >= 2 && name[0] == QLatin1Char('o') && name[1].isDigit()) {
        return true;
    }
    return name.startsWith(QLatin1String("gpt-5"));
}

namespace {

bool isDeepSeekLegacyModel(const QString & model) {
    return model == QLatin1String("deepseek-chat") || model == QLatin1String("deepseek-reasoner");
}

QJsonArray messagesJson(const ChatRequest & request, bool sendReasoningBack) {
    QJsonArray messages;
    for (const ChatMessage & m : request.messages) {
        QJsonObject o{{QStringLiteral("role"), m.role}};
        if (m.attachments.isEmpty()) {
            o.insert(QStringLiteral("content"), m.content);
        } else {
            o.insert(QStringLiteral("content"), contentParts(m)); // text part + image_url data URLs
        }
        if (sendReasoningBack && m.role == QLatin1String("assistant") && !m.thinking.isEmpty()) {
            o.insert(QStringLiteral("reasoning_content"), m.thinking);
        }
        messages.append(o);
    }
    return messages;
}

} // namespace

QJsonObject buildChatCompletionBody(EndpointPreset preset, const ChatRequest & request, const QString & model,
                                    const ChatBodyOptions & options) {
    const SamplingSettings & s = request.sampling;
    const bool               passBack = options.sendReasoningBack || presetPassesReasoningBack(preset);

    QJsonObject body;
    body.insert(QStringLiteral("model"), model);
    body.insert(QStringLiteral("messages"), messagesJson(request, passBack));
    body.insert(QStringLiteral("stream"), true);
    body.insert(QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}});

    auto putCommon = [&](bool withSeed) {
        body.insert(QStringLiteral("temperature"), s.temperature);
        body.insert(QStringLiteral("top_p"), s.topP);
        if (withSeed && s.seed >= 0) {
            body.insert(QStringLiteral("seed"), double(s.seed));
        }
    };
    auto putLocalSampling = [&](const QString & penaltyKey) {
        putCommon(true);
        if (s.topK > 0) {
            body.insert(QStringLiteral("top_k"), s.topK);
        }
        body.insert(QStringLiteral("min_p"), s.minP);
        body.insert(penaltyKey, s.repetitionPenalty);
        body.insert(QStringLiteral("max_tokens"), request.maxTokens);
    };

    switch (preset) {
    case EndpointPreset::DeepSeek:
        // Thinking mode ignores temperature/top_p (DeepSeek docs); send them only without it.
        if (!request.thinking) {
            body.insert(QStringLiteral("temperature"), s.temperature);
            body.insert(QStringLiteral("top_p"), s.topP);
        }
        body.insert(QStringLiteral("max_tokens"), request.maxTokens);
        if (!isDeepSeekLegacyModel(model)) {
            body.insert(QStringLiteral("thinking"),
                        QJsonObject{{QStringLiteral("type"), request.thinking ? QStringLiteral("enabled")
                                                                              : QStringLiteral("disabled")}});
        }
        break;
    case EndpointPreset::OpenAI:
        // max_completion_tokens replaces the deprecated max_tokens and is the only one reasoning
        // models accept; those also reject a non-default temperature/top_p.
        body.insert(QStringLiteral("max_completion_tokens"), request.maxTokens);
        if (isOpenAiReasoningModel(model)) {
            body.insert(QStringLiteral("reasoning_effort"),
                        request.thinking ? QStringLiteral("high") : QStringLiteral("low"));
        } else {
            putCommon(true);
        }
        break;
    case EndpointPreset::VLLM:
    case EndpointPreset::SGLang:
        putLocalSampling(QStringLiteral("repetition_penalty"));
        body.insert(QStringLiteral("chat_template_kwargs"),
                    QJsonObject{{QStringLiteral("enable_thinking"), request.thinking},
                                {QStringLiteral("thinking"), request.thinking}});
        break;
    case EndpointPreset::LlamaCpp:
        putLocalSampling(QStringLiteral("repeat_penalty"));
        body.insert(QStringLiteral("chat_template_kwargs"),
                    QJsonObject{{QStringLiteral("enable_thinking"), request.thinking}});
        body.insert(QStringLiteral("reasoning_format"), QStringLiteral("deepseek"));
        break;
    case EndpointPreset::Custom:
        putCommon(true);
        body.insert(QStringLiteral("max_tokens"), request.maxTokens);
        break;
    }

    for (auto it = options.extraBody.begin(); it != options.extraBody.end(); ++it) {
        body.insert(it.key(), it.value());
    }
    return body;
}

} // namespace v4app
