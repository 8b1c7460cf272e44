#include "backends/RemoteBackend.h"

#include "backends/ImageAttachments.h"
#include "backends/ModelList.h"

#include <QDateTime>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLocale>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkProxyFactory>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QTimeZone>

#include <algorithm>

Q_LOGGING_CATEGORY(lcRemote, "v4.remote")

namespace v4app {

namespace {

constexpr qsizetype kMaxErrorBody = 64 * 1024; // enough for any real error JSON
constexpr int       kMaxShownServerText = 300;

QString keyForLog(const QString & key) {
    return key.isEmpty() ? QStringLiteral("none") : QStringLiteral("set (%1 chars)").arg(key.size());
}

bool isLoopbackHost(const QString & host) {
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0) {
        return true;
    }
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

// The human part of an error body: error.message, error (string), message, detail; else the
// start of the raw text.
QString serverMessage(const QByteArray & body) {
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    QString             text;
    if (doc.isObject()) {
        const QJsonObject o = doc.object();
        const QJsonValue  error = o.value(QLatin1String("error"));
        if (error.isObject()) {
            text = error.toObject().value(QLatin1String("message")).toString();
        } else if (error.isString()) {
            text = error.toString();
        }
        for (const char * key : {"message", "detail"}) {
            if (text.isEmpty() && o.value(QLatin1String(key)).isString()) {
                text = o.value(QLatin1String(key)).toString();
            }
        }
    }
    if (text.isEmpty() && !doc.isObject()) {
        text = QString::fromUtf8(body.left(kMaxShownServerText * 2)).simplified();
        if (text.startsWith(QLatin1Char('<'))) {
            text.clear(); // an HTML error page says nothing useful in one line
        }
    }
    text = text.simplified();
    if (text.size() > kMaxShownServerText) {
        text = text.left(kMaxShownServerText) + QStringLiteral("…");
    }
    return text;
}

bool mentionsContextLength(const QString & text) {
    static const QRegularExpression re(
        QStringLiteral("context[ _-]?(length|window|size)|maximum context|max_tokens.*(exceed|too)|too many tokens|"
                       "prompt is too long|input is too long|too long for|exceeds? the (model|maximum)|"
                       "reduce the length|context_length_exceeded|n_ctx"),
        QRegularExpression::CaseInsensitiveOption);
    return re.match(text).hasMatch();
}

QString withServerText(const QString & message, const QString & server) {
    return server.isEmpty() ? message : message + QStringLiteral(" Server said: \"%1\"").arg(server);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Static helpers

QUrl RemoteBackend::endpointUrl(const QUrl & baseUrl, const QString & tail) {
    QUrl    url = baseUrl;
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/'))) {
        path.chop(1);
    }
    for (const QLatin1String suffix : {QLatin1String("/chat/completions"), QLatin1String("/models")}) {
        if (path.endsWith(suffix)) {
            path.chop(suffix.size());
        }
    }
    static const QRegularExpression versionSegment(QStringLiteral("(^|/)v\\d+[a-z0-9]*(/|$)"));
    if (!versionSegment.match(path).hasMatch()) {
        path += QStringLiteral("/v1");
    }
    url.setPath(path + QLatin1Char('/') + tail);
    url.setQuery(QString());
    url.setFragment(QString());
    return url;
}

int RemoteBackend::parseRetryAfter(const QByteArray & value, const QDateTime & now) {
    const QByteArray v = value.trimmed();
    if (v.isEmpty()) {
        return -1;
    }
    bool      ok = false;
    const int seconds = v.toInt(&ok);
    if (ok) {
        return seconds >= 0 ? seconds : -1;
    }
    // HTTP date, IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
    QDateTime when = QLocale::c().toDateTime(QString::fromLatin1(v), QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"));
    if (!when.isValid()) {
        when = QDateTime::fromString(QString::fromLatin1(v), Qt::RFC2822Date);
    } else {
        when.setTimeZone(QTimeZone::utc());
    }
    if (!when.isValid()) {
        return -1;
    }
    return int(std::max<qint64>(0, now.secsTo(when)));
}

QString RemoteBackend::redactKey(QString text, const QString & apiKey) {
    if (apiKey.isEmpty()) {
        return text;
    }
    const QString placeholder = QStringLiteral("[API key]");
    text.replace(apiKey, placeholder);
    // Servers often quote a key partly ("sk-abc12...wxyz"): hide recognisable pieces too.
    if (apiKey.size() >= 12) {
        text.replace(apiKey.left(8), placeholder);
        text.replace(apiKey.right(6), placeholder);
    }
    return text;
}

// ---------------------------------------------------------------------------------------------

RemoteBackend::RemoteBackend(QObject * parent) : RemoteBackend(RemoteSettings{}, parent) {}

RemoteBackend::RemoteBackend(const RemoteSettings & settings, QObject * parent)
    : ChatBackend(parent), m_settings(settings), m_nam(new QNetworkAccessManager(this)),
      m_parser(settings.maxEventBytes) {
    QNetworkProxyFactory::setUseSystemConfiguration(true);
    m_watchdog.setSingleShot(true);
    m_retryTimer.setSingleShot(true);
    m_modelsTimer.setSingleShot(true);
    connect(&m_watchdog, &QTimer::timeout, this, &RemoteBackend::onWatchdog);
    connect(&m_retryTimer, &QTimer::timeout, this, &RemoteBackend::sendAttempt);
    connect(&m_modelsTimer, &QTimer::timeout, this, [this] {
        if (m_modelsReply) {
            QNetworkReply * reply = m_modelsReply;
            m_modelsReply = nullptr;
            reply->disconnect(this);
            reply->abort();
            reply->deleteLater();
            emit modelsFailed(ChatError{ChatError::Kind::Timeout,
                                        QStringLiteral("%1 did not send its model list within %2 s. Check the server "
                                                       "address and that the server is running.")
                                            .arg(host())
                                            .arg(m_settings.modelsTimeoutMs / 1000.0),
                                        0, 0});
        }
    });
}

RemoteBackend::~RemoteBackend() {
    ++m_generation;
    detachReply();
    if (m_modelsReply) {
        m_modelsReply->disconnect(this);
        m_modelsReply->abort();
    }
}

void RemoteBackend::setSettings(const RemoteSettings & settings) {
    m_settings = settings;
}

QUrl RemoteBackend::chatCompletionsUrl() const {
    return endpointUrl(m_settings.baseUrl, QStringLiteral("chat/completions"));
}

QUrl RemoteBackend::modelsUrl() const {
    return endpointUrl(m_settings.baseUrl, QStringLiteral("models"));
}

QString RemoteBackend::host() const {
    const QUrl url = m_settings.baseUrl;
    if (url.port() > 0) {
        return QStringLiteral("%1:%2").arg(url.host()).arg(url.port());
    }
    return url.host().isEmpty() ? QStringLiteral("the server") : url.host();
}

bool RemoteBackend::prepareNetwork(const QUrl & url) {
    if (!url.isValid() || url.host().isEmpty() ||
        (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))) {
        return false;
    }
    // Local servers never go through a proxy; everything else follows the system settings.
    m_nam->setProxy(isLoopbackHost(url.host()) ? QNetworkProxy(QNetworkProxy::NoProxy)
                                               : QNetworkProxy(QNetworkProxy::DefaultProxy));
    return true;
}

QNetworkRequest RemoteBackend::makeRequest(const QUrl & url, const QByteArray & accept) const {
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("V4Chat"));
    request.setRawHeader("Accept", accept);
    if (!m_settings.apiKey.isEmpty()) {
        request.setRawHeader("Authorization", "Bearer " + m_settings.apiKey.toUtf8());
    }
    for (const auto & [name, value] : m_settings.extraHeaders) {
        request.setRawHeader(name, value);
    }
    // Never carry the Authorization header to another host on a redirect.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::SameOriginRedirectPolicy);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    return request;
}

// ---------------------------------------------------------------------------------------------
// Generation

void RemoteBackend::start(const ChatRequest & request) {
    auto failSoon = [this](ChatError error) {
        QTimer::singleShot(0, this, [this, error] { emit failed(error); });
    };
    if (m_busy) {
        failSoon(ChatError{ChatError::Kind::Busy,
                           QStringLiteral("An answer is still being generated; stop it or wait for it to finish."), 0, 0});
        return;
    }
    const QUrl url = chatCompletionsUrl();
    if (!prepareNetwork(url)) {
        failSoon(ChatError{ChatError::Kind::Network,
                           QStringLiteral("The server address \"%1\" is not a valid http:// or https:// URL. Set it in "
                                          "the remote endpoint settings.")
                               .arg(m_settings.baseUrl.toDisplayString()),
                           0, 0});
        return;
    }
    const QString model = request.model.isEmpty() ? m_settings.model : request.model;
    if (model.isEmpty()) {
        failSoon(ChatError{ChatError::Kind::NotFound,
                           QStringLiteral("No model is chosen for %1. Pick one from the server's model list.").arg(host()),
                           0, 0});
        return;
    }
    if (hasAttachments(request.messages)) {
        if (!m_settings.acceptsImages) {
            failSoon(ChatError{ChatError::Kind::Unsupported,
                               QStringLiteral("The model \"%1\" on %2 is not marked as accepting images. Remove the "
                                              "images, or turn on \"Model accepts images\" in the endpoint settings if "
                                              "it does.")
                                   .arg(model, host()),
                               0, 0});
            return;
        }
        if (const QString problem = checkImageAttachments(request.messages); !problem.isEmpty()) {
            failSoon(ChatError{ChatError::Kind::Unsupported, problem, 0, 0});
            return;
        }
    }
    m_model = resolveModel(m_settings.preset, model, request.thinking);
    m_body = QJsonDocument(buildChatCompletionBody(m_settings.preset, request, m_model,
                                                   ChatBodyOptions{m_settings.sendReasoningBack, m_settings.extraBody}))
                 .toJson(QJsonDocument::Compact);
    m_busy = true;
    m_attempt = 0;
    m_firstOutputMs = -1;
    m_lastOutputMs = -1;
    m_outputChunks = 0;
    m_stats = GenerationStats{};
    m_stats.backend = QStringLiteral("remote");
    m_stats.model = m_model;
    m_clock.start();
    qCDebug(lcRemote) << "POST" << url.toDisplayString() << "model" << m_model << "preset"
                      << endpointPresetInfo(m_settings.preset).id << "key" << keyForLog(m_settings.apiKey);
    sendAttempt();
}

void RemoteBackend::sendAttempt() {
    ++m_attempt;
    m_headersSeen = false;
    m_isSse = true;
    m_doneSeen = false;
    m_status = 0;
    m_errorBody.clear();
    m_jsonBody.clear();
    m_sslErrors.clear();
    m_parser = SseParser(m_settings.maxEventBytes);

    const QUrl url = chatCompletionsUrl();
    m_reply = m_nam->post(makeRequest(url, QByteArrayLiteral("text/event-stream")), m_body);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &RemoteBackend::onMetaData);
    connect(m_reply, &QNetworkReply::readyRead, this, &RemoteBackend::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &RemoteBackend::onFinished);
    connect(m_reply, &QNetworkReply::sslErrors, this, [this](const QList<QSslError> & errors) {
        for (const QSslError & e : errors) {
            m_sslErrors.append(e.errorString());
        }
    });
    m_watchdog.start(m_settings.connectTimeoutMs);
}

void RemoteBackend::onMetaData() {
    if (m_headersSeen || !m_reply) {
        return;
    }
    const QVariant status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!status.isValid()) {
        return;
    }
    m_headersSeen = true;
    m_status = status.toInt();
    const QByteArray type = m_reply->header(QNetworkRequest::ContentTypeHeader).toByteArray().toLower();
    m_isSse = !type.startsWith("application/json");
    m_watchdog.start(m_settings.inactivityTimeoutMs);
}

void RemoteBackend::onReadyRead() {
    if (!m_reply || !m_busy) {
        return;
    }
    onMetaData();
    const quint64 generation = m_generation;
    m_watchdog.start(m_headersSeen ? m_settings.inactivityTimeoutMs : m_settings.connectTimeoutMs);
    while (m_reply && m_reply->bytesAvailable() > 0) {
        const QByteArray bytes = m_reply->read(256 * 1024);
        if (m_status < 200 || m_status >= 300) {
            if (m_errorBody.size() < kMaxErrorBody) {
                m_errorBody.append(bytes.left(kMaxErrorBody - m_errorBody.size()));
            }
            continue;
        }
        if (!m_isSse) {
            if (m_jsonBody.size() + bytes.size() > m_settings.maxEventBytes) {
                failWith(ChatError{ChatError::Kind::BadResponse,
                                   QStringLiteral("The answer from %1 is larger than %2 MB; stopped reading it.")
                                       .arg(host())
                                       .arg(m_settings.maxEventBytes / (1024 * 1024)),
                                   m_status, 0});
                return;
            }
            m_jsonBody.append(bytes);
            continue;
        }
        QList<SseEvent> events;
        const bool      ok = m_parser.feed(bytes, events);
        for (const SseEvent & event : events) {
            handleEvent(event, generation);
            if (generation != m_generation) {
                return; // finished, failed or cancelled from a slot
            }
        }
        if (!ok) {
            failWith(ChatError{ChatError::Kind::BadResponse,
                               QStringLiteral("The stream from %1 broke off: %2, more than any answer needs. The "
                                              "server is misbehaving; try again or use another server.")
                                   .arg(host(), m_parser.errorString()),
                               m_status, 0});
            return;
        }
    }
}

void RemoteBackend::noteOutput() {
    const qint64 now = m_clock.elapsed();
    if (m_firstOutputMs < 0) {
        m_firstOutputMs = now;
    }
    m_lastOutputMs = now;
    ++m_outputChunks;
}

void RemoteBackend::handleEvent(const SseEvent & event, quint64 generation) {
    const QByteArray data = event.data.trimmed();
    if (data == "[DONE]") {
        m_doneSeen = true;
        succeed();
        return;
    }
    QJsonParseError     parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(data, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        const QString excerpt = QString::fromUtf8(data.left(80)).simplified();
        failWith(ChatError{ChatError::Kind::BadResponse,
                           QStringLiteral("%1 sent a malformed event (%2) in the stream: \"%3\"")
                               .arg(host(),
                                    parseError.error != QJsonParseError::NoError ? parseError.errorString()
                                                                                 : QStringLiteral("not a JSON object"),
                                    redactKey(excerpt, m_settings.apiKey)),
                           m_status, 0});
        return;
    }
    const QJsonObject object = doc.object();
    if (event.type == "error" || object.contains(QLatin1String("error"))) {
        const QString text = redactKey(serverMessage(data), m_settings.apiKey);
        ChatError     error;
        error.httpStatus = m_status;
        if (mentionsContextLength(text)) {
            error.kind = ChatError::Kind::ContextTooLong;
            error.message = withServerText(
                QStringLiteral("The conversation is too long for the model's context window. Start a new chat or "
                               "remove earlier messages."),
                text);
        } else {
            error.kind = ChatError::Kind::Server;
            error.message = withServerText(QStringLiteral("%1 reported an error in the middle of the answer.").arg(host()),
                                           text.isEmpty() ? QString::fromUtf8(data.left(kMaxShownServerText)) : text);
        }
        failWith(error);
        return;
    }
    handleContentJson(object, generation);
}

void RemoteBackend::handleContentJson(const QJsonObject & object, quint64 generation) {
    const QJsonArray choices = object.value(QLatin1String("choices")).toArray();
    if (!choices.isEmpty()) {
        const QJsonObject choice = choices.at(0).toObject();
        // Streaming chunks carry "delta"; a whole (non-streamed) answer carries "message".
        const QJsonObject delta = choice.contains(QLatin1String("delta")) ? choice.value(QLatin1String("delta")).toObject()
                                                                          : choice.value(QLatin1String("message")).toObject();
        QString reasoning = delta.value(QLatin1String("reasoning_content")).toString();
        if (reasoning.isEmpty()) {
            reasoning = delta.value(QLatin1String("reasoning")).toString();
        }
        const QString content = delta.value(QLatin1String("content")).toString();
        if (!reasoning.isEmpty()) {
            noteOutput();
            emit thinking(reasoning);
            if (generation != m_generation) {
                return;
            }
        }
        if (!content.isEmpty()) {
            noteOutput();
            emit token(content);
            if (generation != m_generation) {
                return;
            }
        }
        const QJsonValue finish = choice.value(QLatin1String("finish_reason"));
        if (finish.isString() && !finish.toString().isEmpty()) {
            m_stats.finishReason = finish.toString();
        }
    }
    const QJsonValue usage = object.value(QLatin1String("usage"));
    if (usage.isObject()) {
        const QJsonObject u = usage.toObject();
        m_stats.promptTokens = u.value(QLatin1String("prompt_tokens")).toInt(m_stats.promptTokens);
        m_stats.completionTokens = u.value(QLatin1String("completion_tokens")).toInt(m_stats.completionTokens);
        // Prompt-cache hits: OpenAI/vLLM prompt_tokens_details.cached_tokens, DeepSeek prompt_cache_hit_tokens.
        const int cached = u.value(QLatin1String("prompt_tokens_details")).toObject().value(QLatin1String("cached_tokens")).toInt(
            u.value(QLatin1String("prompt_cache_hit_tokens")).toInt(0));
        if (cached > 0) {
            m_stats.reusedPromptTokens = cached;
        }
    }
}

void RemoteBackend::handleWholeJsonBody() {
    QJsonParseError     parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(m_jsonBody, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        failWith(ChatError{ChatError::Kind::BadResponse,
                           QStringLiteral("%1 answered with malformed JSON (%2).").arg(host(), parseError.errorString()),
                           m_status, 0});
        return;
    }
    SseEvent event;
    event.data = m_jsonBody;
    const quint64 generation = m_generation;
    handleEvent(event, generation);
    if (generation == m_generation) {
        succeed();
    }
}

void RemoteBackend::onFinished() {
    QNetworkReply * reply = qobject_cast<QNetworkReply *>(sender());
    if (!reply || reply != m_reply || !m_busy) {
        return;
    }
    const quint64 generation = m_generation;
    onReadyRead(); // anything still buffered
    if (generation != m_generation || !m_reply) {
        return;
    }
    onMetaData();
    const QNetworkReply::NetworkError code = m_reply->error();
    if (m_status >= 300) {
        handleHttpError(m_status);
    } else if (code != QNetworkReply::NoError) {
        handleNetworkError(code, m_reply->errorString());
    } else if (!m_isSse) {
        handleWholeJsonBody();
    } else if (!m_stats.finishReason.isEmpty()) {
        succeed(); // some servers close without "data: [DONE]"; finish_reason says it was complete
    } else {
        handleNetworkError(QNetworkReply::RemoteHostClosedError, QString());
    }
}

void RemoteBackend::onWatchdog() {
    if (!m_busy || !m_reply) {
        return;
    }
    ChatError error;
    error.kind = ChatError::Kind::Timeout;
    error.httpStatus = m_status;
    if (!m_headersSeen) {
        error.message = QStringLiteral("%1 did not answer within %2 s. Check that the server is running and reachable, "
                                       "or raise the connect timeout.")
                            .arg(host())
                            .arg(m_settings.connectTimeoutMs / 1000.0);
    } else {
        error.message = QStringLiteral("%1 stopped sending for %2 s in the middle of the answer.")
                            .arg(host())
                            .arg(m_settings.inactivityTimeoutMs / 1000.0);
    }
    failWith(error);
}

void RemoteBackend::handleHttpError(int status) {
    const QString text = redactKey(serverMessage(m_errorBody), m_settings.apiKey);
    ChatError     error;
    error.httpStatus = status;
    if (status == 429) {
        const int retryAfter = parseRetryAfter(m_reply ? m_reply->rawHeader("Retry-After") : QByteArray(),
                                               QDateTime::currentDateTimeUtc());
        error.retryAfterSeconds = std::max(retryAfter, 0);
        if (m_firstOutputMs < 0 && m_attempt < m_settings.maxAttempts) {
            const int backoffMs = 1000 << std::min(m_attempt - 1, 5);
            const int delayMs = std::clamp(retryAfter >= 0 ? retryAfter * 1000 : backoffMs, 0, m_settings.maxRetryDelayMs);
            qCDebug(lcRemote) << "429 from" << host() << "- retry" << m_attempt + 1 << "in" << delayMs << "ms";
            detachReply();
            m_retryTimer.start(delayMs);
            emit retrying(m_attempt + 1, delayMs, QStringLiteral("rate limited by %1").arg(host()));
            return;
        }
        error.kind = ChatError::Kind::RateLimited;
        error.message = withServerText(
            QStringLiteral("%1 is rate limiting requests (HTTP 429), still after %2 tries. Wait %3 and try again, or "
                           "check the plan/quota of this API key.")
                .arg(host())
                .arg(m_attempt)
                .arg(retryAfter > 0 ? QStringLiteral("%1 s").arg(retryAfter) : QStringLiteral("a moment")),
            text);
    } else if (status == 401) {
        error.kind = ChatError::Kind::Unauthorized;
        error.message = withServerText(
            m_settings.apiKey.isEmpty()
                ? QStringLiteral("%1 needs an API key (HTTP 401). Enter it in the remote endpoint settings.").arg(host())
                : QStringLiteral("%1 rejected the API key (HTTP 401). Check the key in the remote endpoint settings.")
                      .arg(host()),
            text);
    } else if (status == 403) {
        error.kind = ChatError::Kind::Unauthorized;
        error.message = withServerText(
            QStringLiteral("%1 refused access (HTTP 403): the API key is not allowed to use this model or endpoint, or "
                           "the account has no balance.")
                .arg(host()),
            text);
    } else if (status == 404) {
        error.kind = ChatError::Kind::NotFound;
        error.message = withServerText(
            QStringLiteral("Not found (HTTP 404): model \"%1\" is not available on %2, or the server address is wrong "
                           "(it usually ends in /v1). Pick a model from the server's list.")
                .arg(m_model, host()),
            text);
    } else if (status == 413 || ((status == 400 || status == 422) && mentionsContextLength(text))) {
        error.kind = ChatError::Kind::ContextTooLong;
        error.message = withServerText(
            status == 413 ? QStringLiteral("The request is too large for %1 (HTTP 413): the conversation is too long. "
                                           "Start a new chat or remove earlier messages or attachments.")
                                .arg(host())
                          : QStringLiteral("The conversation is too long for the context window of \"%1\" (HTTP %2). "
                                           "Start a new chat or remove earlier messages.")
                                .arg(m_model)
                                .arg(status),
            text);
    } else if (status == 408) {
        error.kind = ChatError::Kind::Timeout;
        error.message = withServerText(QStringLiteral("%1 timed out waiting for the request (HTTP 408).").arg(host()), text);
    } else if (status >= 500) {
        error.kind = ChatError::Kind::Server;
        const QString what = status == 503 ? QStringLiteral("is overloaded or still loading the model (HTTP 503). Try "
                                                            "again in a moment.")
                                           : QStringLiteral("had an internal error (HTTP %1). Try again; if it "
                                                            "persists, the server's log says more.")
                                                 .arg(status);
        error.message = withServerText(host() + QLatin1Char(' ') + what, text);
    } else {
        error.kind = ChatError::Kind::Server;
        error.message = withServerText(QStringLiteral("%1 rejected the request (HTTP %2).").arg(host()).arg(status), text);
    }
    failWith(error);
}

void RemoteBackend::handleNetworkError(QNetworkReply::NetworkError code, const QString & detail) {
    ChatError error;
    error.httpStatus = m_status;
    error.kind = ChatError::Kind::Network;
    const bool partial = m_firstOutputMs >= 0;
    switch (code) {
    case QNetworkReply::SslHandshakeFailedError:
    case QNetworkReply::UnknownNetworkError:
        if (code == QNetworkReply::SslHandshakeFailedError || !m_sslErrors.isEmpty()) {
            error.kind = ChatError::Kind::Tls;
            error.message = QStringLiteral("The secure (TLS) connection to %1 failed: %2. Check that the address uses the "
                                           "right scheme (http:// vs https://) and that the server's certificate is "
                                           "valid.")
                                .arg(host(), m_sslErrors.isEmpty() ? detail : m_sslErrors.join(QStringLiteral("; ")));
        } else {
            error.message = QStringLiteral("Network error talking to %1: %2. Check your connection.").arg(host(), detail);
        }
        break;
    case QNetworkReply::ConnectionRefusedError:
        error.message = QStringLiteral("%1 refused the connection. Is the server running, and is the port right?").arg(host());
        break;
    case QNetworkReply::HostNotFoundError:
        error.message = QStringLiteral("The host \"%1\" was not found (DNS). Check the address and your internet "
                                       "connection.")
                            .arg(m_settings.baseUrl.host());
        break;
    case QNetworkReply::TimeoutError:
        error.kind = ChatError::Kind::Timeout;
        error.message = QStringLiteral("The connection to %1 timed out.").arg(host());
        break;
    case QNetworkReply::RemoteHostClosedError:
        error.message = QStringLiteral("%1 closed the connection before the answer was complete.").arg(host());
        break;
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ProxyNotFoundError:
    case QNetworkReply::ProxyTimeoutError:
    case QNetworkReply::ProxyAuthenticationRequiredError:
        error.message = QStringLiteral("The proxy failed while connecting to %1: %2. Check the system proxy settings.")
                            .arg(host(), detail);
        break;
    case QNetworkReply::ProtocolFailure:
    case QNetworkReply::ProtocolUnknownError:
    case QNetworkReply::ProtocolInvalidOperationError:
        error.kind = ChatError::Kind::BadResponse;
        error.message = QStringLiteral("%1 sent an answer that breaks the HTTP protocol: %2.").arg(host(), detail);
        break;
    default:
        error.message = QStringLiteral("Network error talking to %1: %2. Check your connection (offline?).")
                            .arg(host(), detail);
        break;
    }
    if (partial) {
        error.message += QStringLiteral(" The partial answer was kept.");
    }
    failWith(error);
}

void RemoteBackend::succeed() {
    const qint64 endMs = m_clock.elapsed();
    GenerationStats stats = m_stats;
    if (stats.completionTokens <= 0) {
        stats.completionTokens = m_outputChunks; // servers without usage: one chunk ~ one token
    }
    if (m_firstOutputMs >= 0) {
        stats.ttftMs = double(m_firstOutputMs);
        const qint64 spanMs = std::max<qint64>(m_lastOutputMs, endMs) - m_firstOutputMs;
        if (spanMs > 0 && stats.completionTokens > 1) {
            stats.tokensPerSecond = (stats.completionTokens - 1) * 1000.0 / double(spanMs);
        }
    }
    if (stats.finishReason.isEmpty()) {
        stats.finishReason = QStringLiteral("stop");
    }
    ++m_generation;
    m_busy = false;
    detachReply();
    qCDebug(lcRemote) << "finished:" << stats.completionTokens << "tokens, ttft" << stats.ttftMs << "ms";
    emit finished(stats);
}

void RemoteBackend::failWith(ChatError error) {
    error.message = redactKey(error.message, m_settings.apiKey);
    if (error.kind != ChatError::Kind::Cancelled && m_firstOutputMs >= 0 &&
        !error.message.contains(QLatin1String("partial answer"))) {
        error.message += QStringLiteral(" The partial answer was kept.");
    }
    ++m_generation;
    m_busy = false;
    detachReply();
    qCDebug(lcRemote) << "failed:" << int(error.kind) << error.message;
    emit failed(error);
}

void RemoteBackend::detachReply() {
    m_watchdog.stop();
    m_retryTimer.stop();
    if (m_reply) {
        QNetworkReply * reply = m_reply;
        m_reply = nullptr;
        reply->disconnect(this);
        reply->abort(); // closes the connection at once when the answer is still streaming
        reply->deleteLater();
    }
}

void RemoteBackend::cancel() {
    if (!m_busy) {
        return;
    }
    failWith(ChatError{ChatError::Kind::Cancelled, QStringLiteral("Stopped."), m_status, 0});
}

// ---------------------------------------------------------------------------------------------
// Model list

void RemoteBackend::fetchModels() {
    if (m_modelsReply) {
        m_modelsReply->disconnect(this);
        m_modelsReply->abort();
        m_modelsReply->deleteLater();
    }
    const QUrl url = modelsUrl();
    if (!prepareNetwork(url)) {
        QTimer::singleShot(0, this, [this] {
            emit modelsFailed(ChatError{ChatError::Kind::Network,
                                        QStringLiteral("The server address \"%1\" is not a valid http:// or https:// URL.")
                                            .arg(m_settings.baseUrl.toDisplayString()),
                                        0, 0});
        });
        return;
    }
    qCDebug(lcRemote) << "GET" << url.toDisplayString() << "key" << keyForLog(m_settings.apiKey);
    QNetworkRequest request = makeRequest(url, QByteArrayLiteral("application/json"));
    m_modelsReply = m_nam->get(request);
    m_modelsTimer.start(m_settings.modelsTimeoutMs);
    connect(m_modelsReply, &QNetworkReply::finished, this, [this, reply = m_modelsReply.data()] {
        if (reply != m_modelsReply) {
            return;
        }
        m_modelsTimer.stop();
        m_modelsReply = nullptr;
        reply->deleteLater();
        const int        status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = reply->read(m_settings.maxEventBytes);
        ChatError        error;
        error.httpStatus = status;
        if (status >= 300 || (status == 0 && reply->error() != QNetworkReply::NoError)) {
            const QString text = redactKey(serverMessage(body), m_settings.apiKey);
            if (status == 401 || status == 403) {
                error.kind = ChatError::Kind::Unauthorized;
                error.message = withServerText(
                    QStringLiteral("%1 rejected the API key (HTTP %2). Check the key in the remote endpoint settings.")
                        .arg(host())
                        .arg(status),
                    text);
            } else if (status == 404) {
                error.kind = ChatError::Kind::NotFound;
                error.message = QStringLiteral("%1 has no model list at %2 (HTTP 404). Check the server address (it "
                                               "usually ends in /v1), or type the model name.")
                                    .arg(host(), modelsUrl().path());
            } else if (status >= 300) {
                error.kind = ChatError::Kind::Server;
                error.message = withServerText(QStringLiteral("%1 could not list its models (HTTP %2).").arg(host()).arg(status), text);
            } else {
                error.kind = reply->error() == QNetworkReply::SslHandshakeFailedError ? ChatError::Kind::Tls
                                                                                      : ChatError::Kind::Network;
                error.message = QStringLiteral("Could not reach %1 for its model list: %2.").arg(host(), reply->errorString());
            }
            error.message = redactKey(error.message, m_settings.apiKey);
            emit modelsFailed(error);
            return;
        }
        QString           why;
        const QStringList ids = parseModelIds(body, &why);
        if (!why.isEmpty()) {
            error.kind = ChatError::Kind::BadResponse;
            error.message = QStringLiteral("%1 sent a model list that could not be read: %2.").arg(host(), why);
            emit modelsFailed(error);
            return;
        }
        emit modelsReady(ids);
    });
}

} // namespace v4app
