#include "server/ChatCompletions.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QJsonValue>

#include <cmath>
#include <limits>

namespace v4app {

namespace {

ApiError badRequest(const QString & param, const QString & message, const QByteArray & code = "invalid_value") {
    return {400, "invalid_request_error", code, message, param};
}

// Reads an optional number field in [lo, hi]; returns an error naming the field otherwise.
std::optional<ApiError> readNumber(const QJsonObject & o, const char * key, double lo, double hi,
                                   std::optional<double> & out) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull()) {
        return std::nullopt;
    }
    if (!v.isDouble() || !std::isfinite(v.toDouble()) || v.toDouble() < lo || v.toDouble() > hi) {
        return badRequest(QLatin1String(key), QStringLiteral("'%1' must be a number in [%2, %3]")
                                                  .arg(QLatin1String(key)).arg(lo).arg(hi));
    }
    out = v.toDouble();
    return std::nullopt;
}

std::optional<ApiError> readInteger(const QJsonObject & o, const char * key, double lo, double hi,
                                    std::optional<double> & out) {
    if (auto e = readNumber(o, key, lo, hi, out)) {
        return e;
    }
    if (out && std::floor(*out) != *out) {
        return badRequest(QLatin1String(key), QStringLiteral("'%1' must be an integer").arg(QLatin1String(key)));
    }
    return std::nullopt;
}

std::optional<ApiError> readContent(const QJsonValue & v, int index, std::string & out) {
    const QString param = QStringLiteral("messages[%1].content").arg(index);
    if (v.isNull() || v.isUndefined()) {
        out.clear(); // assistant turns with tool calls have null content
        return std::nullopt;
    }
    if (v.isString()) {
        out = v.toString().toStdString();
        return std::nullopt;
    }
    if (!v.isArray()) {
        return badRequest(param, QStringLiteral("'%1' must be a string or an array of text parts").arg(param));
    }
    out.clear();
    for (const QJsonValue & part : v.toArray()) {
        const QJsonObject p = part.toObject();
        if (p.value(QLatin1String("type")).toString() != QLatin1String("text") ||
            !p.value(QLatin1String("text")).isString()) {
            return badRequest(param, QStringLiteral("'%1': only {\"type\": \"text\", \"text\": ...} parts are supported")
                                         .arg(param), "unsupported_content");
        }
        out += p.value(QLatin1String("text")).toString().toStdString();
    }
    return std::nullopt;
}

std::optional<ApiError> readMessages(const QJsonObject & o, std::vector<v4::chat_message> & out) {
    const QJsonValue v = o.value(QLatin1String("messages"));
    if (!v.isArray() || v.toArray().isEmpty()) {
        return badRequest(QStringLiteral("messages"), QStringLiteral("'messages' must be a non-empty array"));
    }
    const QJsonArray array = v.toArray();
    for (int i = 0; i < array.size(); ++i) {
        const QJsonObject m    = array.at(i).toObject();
        QString           role = m.value(QLatin1String("role")).toString();
        if (role == QLatin1String("developer")) {
            role = QStringLiteral("system"); // OpenAI's newer name for the system role
        }
        if (role != QLatin1String("system") && role != QLatin1String("user") && role != QLatin1String("assistant") &&
            role != QLatin1String("tool")) {
            return badRequest(QStringLiteral("messages[%1].role").arg(i),
                              QStringLiteral("messages[%1].role must be system, developer, user, assistant or tool").arg(i));
        }
        v4::chat_message msg;
        msg.role = role.toStdString();
        if (auto e = readContent(m.value(QLatin1String("content")), i, msg.content)) {
            return e;
        }
        const QJsonValue reasoning = m.value(QLatin1String("reasoning_content"));
        if (reasoning.isString()) {
            msg.reasoning_content = reasoning.toString().toStdString();
        }
        out.push_back(std::move(msg));
    }
    return std::nullopt;
}

std::optional<ApiError> readStop(const QJsonObject & o, std::vector<std::string> & out) {
    const QJsonValue v = o.value(QLatin1String("stop"));
    if (v.isUndefined() || v.isNull()) {
        return std::nullopt;
    }
    if (v.isString()) {
        out.push_back(v.toString().toStdString());
        return std::nullopt;
    }
    if (!v.isArray() || v.toArray().size() > 16) {
        return badRequest(QStringLiteral("stop"), QStringLiteral("'stop' must be a string or an array of at most 16 strings"));
    }
    for (const QJsonValue & s : v.toArray()) {
        if (!s.isString()) {
            return badRequest(QStringLiteral("stop"), QStringLiteral("'stop' must contain only strings"));
        }
        if (!s.toString().isEmpty()) {
            out.push_back(s.toString().toStdString());
        }
    }
    return std::nullopt;
}

// chat_template_kwargs.enable_thinking (vLLM, SGLang, llama.cpp) or thinking (bool, or DeepSeek's
// {"type": "enabled"|"disabled"}); the first wins when both are given.
std::optional<ApiError> readThinking(const QJsonObject & o, std::optional<bool> & out) {
    const QJsonValue kwargs = o.value(QLatin1String("chat_template_kwargs"));
    if (!kwargs.isUndefined() && !kwargs.isNull() && !kwargs.isObject()) {
        return badRequest(QStringLiteral("chat_template_kwargs"), QStringLiteral("'chat_template_kwargs' must be an object"));
    }
    const QJsonValue enable = kwargs.toObject().value(QLatin1String("enable_thinking"));
    if (enable.isBool()) {
        out = enable.toBool();
        return std::nullopt;
    }
    const QJsonValue thinking = o.value(QLatin1String("thinking"));
    if (thinking.isBool()) {
        out = thinking.toBool();
    } else if (thinking.isObject()) {
        const QString type = thinking.toObject().value(QLatin1String("type")).toString();
        if (type != QLatin1String("enabled") && type != QLatin1String("disabled")) {
            return badRequest(QStringLiteral("thinking"), QStringLiteral("'thinking.type' must be \"enabled\" or \"disabled\""));
        }
        out = type == QLatin1String("enabled");
    } else if (!thinking.isUndefined() && !thinking.isNull()) {
        return badRequest(QStringLiteral("thinking"), QStringLiteral("'thinking' must be a boolean or an object"));
    }
    return std::nullopt;
}

} // namespace

QByteArray errorBody(const ApiError & error) {
    QJsonObject e{
        {QStringLiteral("message"), error.message},
        {QStringLiteral("type"), QString::fromLatin1(error.type)},
        {QStringLiteral("code"), QString::fromLatin1(error.code)},
        {QStringLiteral("param"), error.param.isEmpty() ? QJsonValue() : QJsonValue(error.param)},
    };
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), e}}).toJson(QJsonDocument::Compact);
}

std::optional<ApiError> parseCompletionRequest(const QByteArray & body, CompletionRequest & out) {
    QJsonParseError     parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return ApiError{400, "invalid_request_error", "invalid_json",
                        QStringLiteral("the body is not valid JSON: %1 at offset %2")
                            .arg(parseError.errorString()).arg(parseError.offset), {}};
    }
    if (!doc.isObject()) {
        return ApiError{400, "invalid_request_error", "invalid_json", QStringLiteral("the body must be a JSON object"), {}};
    }
    const QJsonObject o = doc.object();

    const QJsonValue model = o.value(QLatin1String("model"));
    if (!model.isUndefined() && !model.isNull() && !model.isString()) {
        return badRequest(QStringLiteral("model"), QStringLiteral("'model' must be a string"));
    }
    out.model = model.toString();
    if (auto e = readMessages(o, out.chat.messages)) {
        return e;
    }

    const QJsonValue stream = o.value(QLatin1String("stream"));
    if (!stream.isUndefined() && !stream.isNull() && !stream.isBool()) {
        return badRequest(QStringLiteral("stream"), QStringLiteral("'stream' must be a boolean"));
    }
    out.stream       = stream.toBool(false);
    out.includeUsage = o.value(QLatin1String("stream_options")).toObject().value(QLatin1String("include_usage")).toBool(false);

    std::optional<double> n;
    if (auto e = readInteger(o, "n", 1, 1, n)) {
        return ApiError{400, "invalid_request_error", "unsupported_value", QStringLiteral("only n = 1 is supported"),
                        QStringLiteral("n")};
    }

    v4::sampler_params &  sp = out.chat.sampling;
    std::optional<double> temperature, topP, topK, minP, seed, maxTokens, maxCompletionTokens, presence, frequency,
        repeat, repetition;
    for (auto e : {readNumber(o, "temperature", 0, 2, temperature), readNumber(o, "top_p", 0, 1, topP),
                   readInteger(o, "top_k", -1, 1 << 20, topK), readNumber(o, "min_p", 0, 1, minP),
                   readInteger(o, "seed", -9.0e15, 9.0e15, seed),
                   readInteger(o, "max_tokens", 1, std::numeric_limits<int32_t>::max(), maxTokens),
                   readInteger(o, "max_completion_tokens", 1, std::numeric_limits<int32_t>::max(), maxCompletionTokens),
                   readNumber(o, "presence_penalty", -2, 2, presence), readNumber(o, "frequency_penalty", -2, 2, frequency),
                   readNumber(o, "repeat_penalty", 0, 10, repeat), readNumber(o, "repetition_penalty", 0, 10, repetition)}) {
        if (e) {
            return e;
        }
    }
    if (temperature) sp.temperature = static_cast<float>(*temperature);
    if (topP) sp.top_p = static_cast<float>(*topP);
    if (topK) sp.top_k = static_cast<int32_t>(*topK);
    if (minP) sp.min_p = static_cast<float>(*minP);
    if (seed) {
        sp.seed       = static_cast<uint64_t>(static_cast<int64_t>(*seed));
        out.seedGiven = true;
    }
    if (presence) sp.presence_penalty = static_cast<float>(*presence);
    if (frequency) sp.frequency_penalty = static_cast<float>(*frequency);
    if (repeat || repetition) sp.repetition_penalty = static_cast<float>(repeat ? *repeat : *repetition);
    if (maxCompletionTokens || maxTokens) {
        out.chat.max_tokens = static_cast<int32_t>(maxCompletionTokens ? *maxCompletionTokens : *maxTokens);
    }
    if (auto e = readStop(o, out.chat.stop)) {
        return e;
    }
    return readThinking(o, out.chat.enable_thinking);
}

QString finishReason(const v4::chat_result & result) {
    return result.context_full || result.reason == v4::stop_reason::max_tokens ? QStringLiteral("length")
                                                                               : QStringLiteral("stop");
}

QJsonObject usageObject(const v4::chat_result & result) {
    return {
        {QStringLiteral("prompt_tokens"), static_cast<qint64>(result.n_prompt)},
        {QStringLiteral("completion_tokens"), static_cast<qint64>(result.n_generated)},
        {QStringLiteral("total_tokens"), static_cast<qint64>(result.n_prompt) + result.n_generated},
        {QStringLiteral("prompt_tokens_details"), QJsonObject{{QStringLiteral("cached_tokens"), static_cast<qint64>(result.n_reused)}}},
    };
}

namespace {

QJsonObject envelope(const char * object, const QString & id, qint64 created, const QString & model) {
    return {{QStringLiteral("id"), id},
            {QStringLiteral("object"), QLatin1String(object)},
            {QStringLiteral("created"), created},
            {QStringLiteral("model"), model},
            {QStringLiteral("system_fingerprint"), QStringLiteral("v4")}};
}

} // namespace

QJsonObject completionChunk(const QString & id, qint64 created, const QString & model, const QJsonObject & delta,
                            const QString & finishReason) {
    QJsonObject chunk = envelope("chat.completion.chunk", id, created, model);
    chunk.insert(QStringLiteral("choices"),
                 QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                                        {QStringLiteral("delta"), delta},
                                        {QStringLiteral("logprobs"), QJsonValue()},
                                        {QStringLiteral("finish_reason"),
                                         finishReason.isEmpty() ? QJsonValue() : QJsonValue(finishReason)}}});
    return chunk;
}

QJsonObject usageChunk(const QString & id, qint64 created, const QString & model, const v4::chat_result & result) {
    QJsonObject chunk = envelope("chat.completion.chunk", id, created, model);
    chunk.insert(QStringLiteral("choices"), QJsonArray{});
    chunk.insert(QStringLiteral("usage"), usageObject(result));
    return chunk;
}

QJsonObject completionObject(const QString & id, qint64 created, const QString & model, const QString & content,
                             const QString & reasoning, const v4::chat_result & result) {
    QJsonObject message{{QStringLiteral("role"), QStringLiteral("assistant")}, {QStringLiteral("content"), content}};
    if (!reasoning.isEmpty()) {
        message.insert(QStringLiteral("reasoning_content"), reasoning);
    }
    QJsonObject object = envelope("chat.completion", id, created, model);
    object.insert(QStringLiteral("choices"),
                  QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                                         {QStringLiteral("message"), message},
                                         {QStringLiteral("logprobs"), QJsonValue()},
                                         {QStringLiteral("finish_reason"), finishReason(result)}}});
    object.insert(QStringLiteral("usage"), usageObject(result));
    return object;
}

} // namespace v4app
