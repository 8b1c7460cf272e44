// ChatController: the open conversation between the UI, a ChatBackend and the ConversationStore.
// Every user message and every answer is written to the store as it happens (the answer as it
// streams), so the view can always be rebuilt from the store: after a restart, a crash or a kill.
// It turns the active branch into a ChatRequest for the chosen mode, and offers the message
// actions: regenerate (a new assistant sibling), edit and resend (a new user sibling), delete and
// paging through siblings. Widgets connect to its signals; it knows nothing about widgets.
//
// Usage:
//     ChatController chat(&backend, &store, modelPath);
//     chat.openConversation(id);            // or newConversation(); the row is made on first send
//     chat.send(QStringLiteral("Hello"), ChatMode::Fast);
//     // answerStarted, thinkingReceived/answerReceived..., answerFinished or answerFailed
#pragma once

#include <QObject>
#include <QVector>

#include "backends/ChatBackend.h"
#include "storage/ConversationStore.h"

namespace v4app {

enum class ChatMode { Fast, Expert, Auto };

QString                 chatModeName(ChatMode mode); // "fast", "expert", "auto"
std::optional<ChatMode> chatModeFromName(const QString & name);

class ChatController final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatController)

public:
    // `backend` and `store` must outlive the controller. `model` is what requests name (a path for
    // the local engine).
    ChatController(ChatBackend * backend, ConversationStore * store, QString model, QObject * parent = nullptr);

    void    setModel(const QString & model) { m_model = model; }
    QString model() const { return m_model; }
    void    setMaxTokens(int maxTokens) { m_maxTokens = maxTokens; }

    qint64 conversationId() const { return m_conversationId; } // 0: a new chat not saved yet
    void   openConversation(qint64 id);
    void   newConversation();
    void   setMode(ChatMode mode); // remembered for the open conversation

    void send(const QString & text, ChatMode mode);
    void regenerate(qint64 assistantMessageId, ChatMode mode);
    void editAndResend(qint64 userMessageId, const QString & text, ChatMode mode);
    void deleteMessage(qint64 messageId);
    void showSibling(qint64 messageId, int step); // -1 older, +1 newer branch
    void stop();

    bool                           isAnswering() const { return m_answerId != 0; }
    qint64                         answeringMessageId() const { return m_answerId; }
    const QVector<StoredMessage> & messages() const { return m_messages; } // the active branch

signals:
    // The open conversation or its active branch changed: redraw from messages().
    void conversationLoaded(qint64 conversationId, const QString & mode);
    void answerStarted(qint64 messageId, const QString & mode);
    void thinkingReceived(const QString & text);
    void answerReceived(const QString & text);
    void answerFinished(const v4app::GenerationStats & stats, const QString & footer);
    void answerFailed(const QString & message, bool cancelled);
    void problem(const QString & message); // storage trouble and refused actions, for a notice
    void messageNotSaved(const QString & text); // send()/editAndResend() could not store it: give it back

private:
    void startAnswer(qint64 parentId, ChatMode mode);
    void reload();
    bool ensureConversation(const QString & firstText, ChatMode mode);
    void onFinished(const GenerationStats & stats);
    void onFailed(const ChatError & error);
    bool refuseWhileAnswering();

    ChatBackend *          m_backend;
    ConversationStore *    m_store;
    QString                m_model;
    int                    m_maxTokens = 2048;
    qint64                 m_conversationId = 0;
    QVector<StoredMessage> m_messages;
    qint64                 m_answerId = 0; // the answer being streamed
    GenerationStats        m_lastStats;
};

// "gemma-3-270m · Expert · 41.2 tok/s · 12 prompt + 30 tokens · TTFT 85 ms"
QString formatStatsFooter(const GenerationStats & stats, const QString & mode = {});

// A title from the first message: its first line, at most 60 characters.
QString titleFromText(const QString & text);

} // namespace v4app
