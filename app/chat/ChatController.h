// ChatController: one conversation between the UI and a ChatBackend. It keeps the history, turns
// a user message into a ChatRequest for the chosen mode, and relays the streamed answer.
// Widgets connect to its signals; it knows nothing about widgets.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QVector>

#include "backends/ChatBackend.h"

namespace v4app {

enum class ChatMode { Fast, Expert, Auto };

class ChatController final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatController)

public:
    // `backend` must outlive the controller. `model` is what requests name (a path for the local engine).
    ChatController(ChatBackend * backend, QString model, QObject * parent = nullptr);

    void setModel(const QString & model) { m_model = model; }
    void setMaxTokens(int maxTokens) { m_maxTokens = maxTokens; }
    void send(const QString & text, ChatMode mode);
    void stop();
    bool isAnswering() const { return m_answering; }
    const QVector<ChatMessage> & history() const { return m_history; }

signals:
    void answerStarted();
    void thinkingReceived(const QString & text);
    void answerReceived(const QString & text);
    void answerFinished(const v4app::GenerationStats & stats, const QString & footer);
    void answerFailed(const QString & message, bool cancelled);

private:
    void onFinished(const GenerationStats & stats);
    void onFailed(const ChatError & error);
    void closeAnswer();

    ChatBackend *        m_backend;
    QString              m_model;
    QVector<ChatMessage> m_history;
    ChatMessage          m_pending; // the answer being streamed
    bool                 m_answering = false;
    int                  m_maxTokens = 2048;
};

// "gemma-3-270m · 41.2 tok/s · 12 tokens · TTFT 85 ms"
QString formatStatsFooter(const GenerationStats & stats);

} // namespace v4app
