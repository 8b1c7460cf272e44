// ChatBackend: the one interface every answer comes through, whether from the engine in this
// process (LocalBackend) or an OpenAI-compatible server (RemoteBackend). Modes, the UI and the
// tests only see this.
//
// Contract: start() begins one generation and returns at once; the backend then emits any number
// of thinking()/token() pieces (UTF-8 complete, in order) and exactly one of finished() or
// failed(). cancel() stops as soon as possible and ends with failed(ChatError::Cancelled) keeping
// what was produced. A backend runs one generation at a time; start() while busy fails at once.
// Signals are emitted on the thread the backend object lives on (the GUI thread for the app).
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QVector>

namespace v4app {

// An image sent with a user message (PNG or JPEG; see backends/ImageAttachments.h for loading
// and limits). Only remote endpoints whose model accepts images take them; LocalBackend and a
// RemoteBackend without RemoteSettings::acceptsImages fail with ChatError::Kind::Unsupported.
struct ChatAttachment {
    QString    fileName; // for messages ("photo.png")
    QString    mimeType; // "image/png" or "image/jpeg"
    QByteArray data;     // the file's bytes
};

struct ChatMessage {
    QString role;     // "system", "user" or "assistant"
    QString content;
    QString thinking; // reasoning of an earlier assistant turn, sent back only where a provider wants it
    QVector<ChatAttachment> attachments; // user messages: images, sent again with every later request
};

struct SamplingSettings {
    double temperature = 0.7;
    int    topK = 40;
    double topP = 0.95;
    double minP = 0.05;
    double repetitionPenalty = 1.0;
    qint64 seed = -1; // -1: random
};

struct ChatRequest {
    QVector<ChatMessage> messages;
    QString              model;    // model id (remote) or file path (local)
    SamplingSettings     sampling;
    bool                 thinking = false; // ask for visible reasoning where the model can
    int                  maxTokens = 2048;
    qint64               conversationId = 0; // the local engine keeps a saved session state per conversation; 0: none
};

struct GenerationStats {
    QString backend;          // "local-cpu", "local-cuda", "remote"
    QString model;
    int     promptTokens = 0;
    int     completionTokens = 0;
    int     reusedPromptTokens = 0; // prefix reuse (local)
    double  ttftMs = 0;
    double  tokensPerSecond = 0;
    QString finishReason;     // "stop", "length", ...
};

struct ChatError {
    enum class Kind {
        Cancelled, Network, Timeout, Tls, Unauthorized, NotFound, ContextTooLong,
        RateLimited, Server, BadResponse, Busy, ModelLoad, Engine,
        Unsupported, // the request needs something this backend/model cannot do (e.g. images)
    };
    Kind    kind = Kind::Engine;
    QString message;            // for people: what happened and what to do
    int     httpStatus = 0;
    int     retryAfterSeconds = 0;
};

class ChatBackend : public QObject {
    Q_OBJECT

public:
    using QObject::QObject;
    ~ChatBackend() override = default;

    virtual QString name() const = 0;
    virtual bool    isBusy() const = 0;
    virtual void    start(const ChatRequest & request) = 0;
    virtual void    cancel() = 0;

signals:
    void token(const QString & text);
    void thinking(const QString & text);
    void finished(const v4app::GenerationStats & stats);
    void failed(const v4app::ChatError & error);
};

} // namespace v4app

Q_DECLARE_METATYPE(v4app::ChatRequest)
Q_DECLARE_METATYPE(v4app::GenerationStats)
Q_DECLARE_METATYPE(v4app::ChatError)
