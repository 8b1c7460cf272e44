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

#include <functional>

#include "backends/ChatBackend.h"
#include "documents/DocumentContext.h"
#include "storage/ConversationStore.h"

namespace v4app {

namespace documents {
class DocumentsController;
}

enum class ChatMode { Fast, Expert, Auto };

class ProfileStore;
struct ModeProfile;

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
    // The model's context window: documents get what the history and the answer leave of it.
    void    setContextWindow(int tokens) { m_contextWindow = tokens; }

    // Documents attached to the open conversation go into the prompt before the user turn (their
    // passages numbered [n]); the answer's [n] become v4cite: links in messagesForDisplay().
    // `documents` must outlive this; null: no documents.
    void setDocuments(documents::DocumentsController * documents) { m_documents = documents; }

    // Mode profiles (modes/ProfileStore): each answer uses its mode's model, sampling, thinking,
    // budgets and system prompt, and Auto asks the Router which mode fits the message. Without
    // profiles every mode uses model() with built-in defaults. `profiles` must outlive this.
    void setProfiles(const ProfileStore * profiles) { m_profiles = profiles; }
    // Which backend answers a profile (the local engine, or a remote endpoint's); null or no
    // chooser: the backend given at construction.
    void setBackendChooser(std::function<ChatBackend *(const ModeProfile &)> chooser) { m_chooseBackend = std::move(chooser); }
    // Answers the last Auto-routed message again in the mode Auto did not pick (stopping it first).
    void overrideAutoChoice();

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
    // messages() with citation links in the answers that were given document passages (saved with them).
    QVector<StoredMessage>         messagesForDisplay() const;

signals:
    // The open conversation or its active branch changed: redraw from messages().
    void conversationLoaded(qint64 conversationId, const QString & mode);
    void answerStarted(qint64 messageId, const QString & mode);
    void thinkingReceived(const QString & text);
    void answerReceived(const QString & text);
    void answerFinished(const v4app::GenerationStats & stats, const QString & footer);
    void answerFailed(const QString & message, bool cancelled);
    void problem(const QString & message); // storage trouble and refused actions, for a notice
    // Auto chose a mode for an answer: "Auto → Expert: contains code, asks for a proof".
    void autoRouted(qint64 answerId, const QString & summary, v4app::ChatMode chosen);
    void messageNotSaved(const QString & text); // send()/editAndResend() could not store it: give it back
    // What of the attached documents went into the prompt: ContextReport::summary(), for the context meter.
    void documentContextChanged(const QString & summary);

private:
    void startAnswer(qint64 parentId, ChatMode mode);
    void reload();
    bool ensureConversation(const QString & firstText, ChatMode mode);
    void onFinished(const GenerationStats & stats);
    void onFailed(const ChatError & error);
    bool refuseWhileAnswering();
    void useBackend(ChatBackend * backend);
    void runPendingOverride();
    void addDocumentContext(ChatRequest & request);
    void keepCitations(qint64 answerId);
    void loadSavedCitations();

    ChatBackend *          m_backend;            // the one answering now
    ChatBackend *          m_defaultBackend;
    QVector<ChatBackend *> m_connectedBackends;
    ConversationStore *    m_store;
    QString                m_model;
    int                    m_maxTokens = 2048;
    qint64                 m_conversationId = 0;
    QVector<StoredMessage> m_messages;
    qint64                 m_answerId = 0; // the answer being streamed
    GenerationStats        m_lastStats;
    const ProfileStore *   m_profiles = nullptr;
    std::function<ChatBackend *(const ModeProfile &)> m_chooseBackend;
    qint64                 m_autoAnswerId = 0;        // the last answer Auto routed
    ChatMode               m_autoChosen = ChatMode::Fast;
    bool                   m_overridePending = false; // overrideAutoChoice() waits for the stop
    documents::DocumentsController *  m_documents = nullptr;
    int                               m_contextWindow = 4096;
    documents::ContextReport          m_answerContext;   // the documents given to the answer streaming now
    QHash<qint64, documents::ContextReport> m_citations; // answer id -> its passages (this session)
};

// "gemma-3-270m · Expert · 41.2 tok/s · 12 prompt + 30 tokens · TTFT 85 ms"
QString formatStatsFooter(const GenerationStats & stats, const QString & mode = {});

// A title from the first message: its first line, at most 60 characters.
QString titleFromText(const QString & text);

} // namespace v4app
