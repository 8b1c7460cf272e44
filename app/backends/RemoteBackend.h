// RemoteBackend: ChatBackend over an OpenAI-compatible server (DeepSeek API, OpenAI, vLLM,
// SGLang, llama.cpp server, or any custom endpoint). POST {base}/chat/completions with
// "stream": true; the text/event-stream answer is parsed by SseParser, delta.content becomes
// token() and delta.reasoning_content / delta.reasoning becomes thinking(). What differs between
// servers (thinking switch, sampling fields) lives in EndpointPresets.
//
// Failure contract (on top of ChatBackend's): every fault ends in exactly one failed() with a
// ChatError whose message says what happened and what to do, and never contains the API key.
// A failure after some token()/thinking() KEEPS the partial answer: the receiver already has
// those pieces and should keep showing them (the message then says "the partial answer was
// kept"). HTTP 429 before any output is retried automatically (settings.maxAttempts tries in all,
// honouring Retry-After up to settings.maxRetryDelayMs; retrying() tells the UI); after output
// has started nothing is retried, since that would duplicate text.
//
// Timeouts: connectTimeoutMs runs from sending the request until the response headers;
// inactivityTimeoutMs is the longest silence allowed after that (SSE keep-alive comments count as
// traffic, so a server that queues the request but pings stays alive).
//
// The system proxy is used (QNetworkProxyFactory::setUseSystemConfiguration(true) at creation),
// except for loopback servers, which are always reached directly.
//
//     RemoteSettings s;
//     s.baseUrl = QUrl("https://api.deepseek.com");
//     s.apiKey  = key;
//     s.preset  = EndpointPreset::DeepSeek;
//     s.model   = "deepseek-chat";
//     auto * backend = new RemoteBackend(s, this);
//     connect(backend, &ChatBackend::token, view, &ChatView::appendAnswer);
//     connect(backend, &ChatBackend::failed, view, &ChatView::showError);
//     backend->start(request);
//
// Lives on one thread (normally the GUI thread); the network work is asynchronous.
#pragma once

#include "backends/ChatBackend.h"
#include "backends/EndpointPresets.h"
#include "backends/SseParser.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QNetworkReply>
#include <QPair>
#include <QPointer>
#include <QStringList>
#include <QTimer>
#include <QUrl>

class QNetworkAccessManager;

namespace v4app {

struct RemoteSettings {
    QUrl           baseUrl;  // e.g. https://api.deepseek.com or http://127.0.0.1:8000/v1
    QString        apiKey;   // sent as "Authorization: Bearer ..."; never logged or shown
    EndpointPreset preset = EndpointPreset::Custom;
    QString        model;    // used when ChatRequest::model is empty
    QList<QPair<QByteArray, QByteArray>> extraHeaders;
    QJsonObject    extraBody;               // merged into every chat request body (custom servers)
    bool           sendReasoningBack = false; // force "reasoning_content" in earlier assistant turns
    bool           acceptsImages = false;   // the model takes image_url parts (OpenAI /v1/models does not say; the user does)
    int            connectTimeoutMs = 30'000;
    int            inactivityTimeoutMs = 120'000;
    int            modelsTimeoutMs = 15'000;
    int            maxAttempts = 3;         // for HTTP 429 before any output
    int            maxRetryDelayMs = 20'000;
    qsizetype      maxEventBytes = SseParser::kDefaultMaxEventBytes;
};

class RemoteBackend final : public ChatBackend {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteBackend)

public:
    explicit RemoteBackend(QObject * parent = nullptr);
    explicit RemoteBackend(const RemoteSettings & settings, QObject * parent = nullptr);
    ~RemoteBackend() override;

    void                   setSettings(const RemoteSettings & settings); // takes effect at the next start()
    const RemoteSettings & settings() const { return m_settings; }

    QString name() const override { return QStringLiteral("remote"); }
    bool    isBusy() const override { return m_busy; }
    void    start(const ChatRequest & request) override;
    void    cancel() override;

    // GET {base}/models; ends in modelsReady() or modelsFailed(). Independent of start().
    void fetchModels();

    QUrl chatCompletionsUrl() const;
    QUrl modelsUrl() const;

    // "{base}/chat/completions" with "/v1" added unless the base path already has a version
    // segment (v1, v1beta, ...); a pasted ".../chat/completions" or ".../models" is tolerated.
    static QUrl endpointUrl(const QUrl & baseUrl, const QString & tail);
    // Retry-After as seconds (delta-seconds or an HTTP date relative to now); -1 if absent/invalid.
    static int  parseRetryAfter(const QByteArray & value, const QDateTime & now);
    // The key replaced by a placeholder wherever it (or a recognisable piece of it) appears.
    static QString redactKey(QString text, const QString & apiKey);

signals:
    void modelsReady(const QStringList & modelIds);
    void modelsFailed(const v4app::ChatError & error);
    // An automatic retry is scheduled (rate limited): attempt is the one about to be made.
    void retrying(int attempt, int delayMs, const QString & reason);

private:
    void sendAttempt();
    void onMetaData();
    void onReadyRead();
    void onFinished();
    void onWatchdog();
    void handleEvent(const SseEvent & event, quint64 generation);
    void handleContentJson(const QJsonObject & object, quint64 generation);
    void handleHttpError(int status);
    void handleNetworkError(QNetworkReply::NetworkError code, const QString & detail);
    void handleWholeJsonBody();
    void succeed();
    void failWith(ChatError error);
    void detachReply();
    void noteOutput();
    bool prepareNetwork(const QUrl & url);
    QNetworkRequest makeRequest(const QUrl & url, const QByteArray & accept) const;
    QString host() const;

    RemoteSettings          m_settings;
    QNetworkAccessManager * m_nam = nullptr;

    // One generation.
    bool                    m_busy = false;
    quint64                 m_generation = 0; // bumped when a generation ends; stale callbacks stop
    QPointer<QNetworkReply> m_reply;
    QByteArray              m_body;
    QString                 m_model;
    int                     m_attempt = 0;
    QTimer                  m_watchdog;
    QTimer                  m_retryTimer;
    QElapsedTimer           m_clock;      // since start()
    qint64                  m_firstOutputMs = -1;
    qint64                  m_lastOutputMs = -1;
    int                     m_outputChunks = 0;
    bool                    m_headersSeen = false;
    bool                    m_isSse = true;
    bool                    m_doneSeen = false;
    int                     m_status = 0;
    QByteArray              m_errorBody;  // body of an HTTP error answer (bounded)
    QByteArray              m_jsonBody;   // whole-JSON answer of a server that ignored "stream"
    QStringList             m_sslErrors;
    SseParser               m_parser;
    GenerationStats         m_stats;

    // Model list.
    QPointer<QNetworkReply> m_modelsReply;
    QTimer                  m_modelsTimer;
};

} // namespace v4app
