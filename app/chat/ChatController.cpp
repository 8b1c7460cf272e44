#include "chat/ChatController.h"

namespace v4app {

ChatController::ChatController(ChatBackend * backend, QString model, QObject * parent)
    : QObject(parent), m_backend(backend), m_model(std::move(model)) {
    connect(m_backend, &ChatBackend::token, this, [this](const QString & text) {
        if (m_answering) {
            m_pending.content += text;
            emit answerReceived(text);
        }
    });
    connect(m_backend, &ChatBackend::thinking, this, [this](const QString & text) {
        if (m_answering) {
            m_pending.thinking += text;
            emit thinkingReceived(text);
        }
    });
    connect(m_backend, &ChatBackend::finished, this, &ChatController::onFinished);
    connect(m_backend, &ChatBackend::failed, this, &ChatController::onFailed);
}

void ChatController::send(const QString & text, ChatMode mode) {
    if (m_answering) {
        return;
    }
    m_history.push_back({QStringLiteral("user"), text, QString()});
    ChatRequest request;
    request.messages = m_history;
    request.model    = m_model;
    request.thinking = mode == ChatMode::Expert;
    request.maxTokens = m_maxTokens;
    request.sampling.temperature = mode == ChatMode::Expert ? 0.6 : 0.7;
    m_pending   = {QStringLiteral("assistant"), QString(), QString()};
    m_answering = true;
    emit answerStarted();
    m_backend->start(request);
}

void ChatController::stop() {
    if (m_answering) {
        m_backend->cancel();
    }
}

void ChatController::closeAnswer() {
    // A stopped or failed answer keeps what was produced, so the next turn sees it too.
    if (!m_pending.content.isEmpty() || !m_pending.thinking.isEmpty()) {
        m_history.push_back(m_pending);
    }
    m_answering = false;
}

void ChatController::onFinished(const GenerationStats & stats) {
    if (!m_answering) {
        return;
    }
    closeAnswer();
    emit answerFinished(stats, formatStatsFooter(stats));
}

void ChatController::onFailed(const ChatError & error) {
    if (!m_answering) {
        return;
    }
    closeAnswer();
    emit answerFailed(error.message, error.kind == ChatError::Kind::Cancelled);
}

QString formatStatsFooter(const GenerationStats & stats) {
    QStringList parts;
    if (!stats.model.isEmpty()) parts << stats.model;
    if (stats.tokensPerSecond > 0) parts << QStringLiteral("%1 tok/s").arg(stats.tokensPerSecond, 0, 'f', 1);
    parts << QStringLiteral("%1 tokens").arg(stats.completionTokens);
    if (stats.ttftMs > 0) parts << QStringLiteral("TTFT %1 ms").arg(qRound(stats.ttftMs));
    return parts.join(QStringLiteral(" · "));
}

} // namespace v4app
