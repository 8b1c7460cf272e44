#include "chat/ChatController.h"

#include <QFileInfo>

#include "documents/DocumentsController.h"
#include "modes/ProfileStore.h"
#include "modes/Router.h"

namespace v4app {

QString chatModeName(ChatMode mode) {
    switch (mode) {
        case ChatMode::Fast: return QStringLiteral("fast");
        case ChatMode::Expert: return QStringLiteral("expert");
        case ChatMode::Auto: return QStringLiteral("auto");
    }
    return QStringLiteral("auto");
}

std::optional<ChatMode> chatModeFromName(const QString & name) {
    for (ChatMode m : {ChatMode::Fast, ChatMode::Expert, ChatMode::Auto}) {
        if (chatModeName(m) == name) {
            return m;
        }
    }
    return std::nullopt;
}

ChatController::ChatController(ChatBackend * backend, ConversationStore * store, QString model, QObject * parent)
    : QObject(parent), m_backend(backend), m_defaultBackend(backend), m_store(store), m_model(std::move(model)) {
    useBackend(backend);
}

// Listens to `backend` (once) and makes it the one whose output counts; pieces from any other
// backend (a late one from before a switch) are ignored.
void ChatController::useBackend(ChatBackend * backend) {
    m_backend = backend;
    if (m_connectedBackends.contains(backend)) {
        return;
    }
    m_connectedBackends.push_back(backend);
    connect(backend, &QObject::destroyed, this, [this, backend] { m_connectedBackends.removeAll(backend); });
    connect(backend, &ChatBackend::token, this, [this, backend](const QString & text) {
        if (m_answerId != 0 && backend == m_backend) {
            (void)m_store->appendToStreaming(m_answerId, text, {}); // a failed write is retried; storageError tells
            emit answerReceived(text);
        }
    });
    connect(backend, &ChatBackend::thinking, this, [this, backend](const QString & text) {
        if (m_answerId != 0 && backend == m_backend) {
            (void)m_store->appendToStreaming(m_answerId, {}, text);
            emit thinkingReceived(text);
        }
    });
    connect(backend, &ChatBackend::finished, this, [this, backend](const GenerationStats & stats) {
        if (backend == m_backend) onFinished(stats);
    });
    connect(backend, &ChatBackend::failed, this, [this, backend](const ChatError & error) {
        if (backend == m_backend) onFailed(error);
    });
}

void ChatController::overrideAutoChoice() {
    if (m_autoAnswerId == 0) {
        return;
    }
    if (m_answerId == m_autoAnswerId) {
        m_overridePending = true; // regenerate once the stop has landed
        stop();
        return;
    }
    m_overridePending = true;
    runPendingOverride();
}

void ChatController::runPendingOverride() {
    if (!std::exchange(m_overridePending, false)) {
        return;
    }
    const qint64 id = std::exchange(m_autoAnswerId, 0);
    regenerate(id, m_autoChosen == ChatMode::Expert ? ChatMode::Fast : ChatMode::Expert);
}

bool ChatController::refuseWhileAnswering() {
    if (m_answerId == 0) {
        return false;
    }
    emit problem(tr("Wait for the answer to finish, or stop it first."));
    return true;
}

void ChatController::openConversation(qint64 id) {
    if (refuseWhileAnswering()) {
        return;
    }
    auto info = m_store->conversation(id);
    if (!info) {
        emit problem(info.error().message);
        return;
    }
    m_conversationId = id;
    reload();
}

void ChatController::newConversation() {
    if (refuseWhileAnswering()) {
        return;
    }
    m_conversationId = 0;
    m_messages.clear();
    emit conversationLoaded(0, QString());
}

void ChatController::reload() {
    QString mode;
    if (m_conversationId != 0) {
        auto branch = m_store->activeBranch(m_conversationId);
        if (!branch) {
            emit problem(branch.error().message);
            return;
        }
        m_messages = branch.value();
        loadSavedCitations();
        if (auto info = m_store->conversation(m_conversationId)) {
            mode = info->mode;
        }
    }
    emit conversationLoaded(m_conversationId, mode);
}

void ChatController::setMode(ChatMode mode) {
    if (m_conversationId != 0) {
        (void)m_store->setMode(m_conversationId, chatModeName(mode));
    }
}

bool ChatController::ensureConversation(const QString & firstText, ChatMode mode) {
    if (m_conversationId != 0) {
        return true;
    }
    auto id = m_store->createConversation(titleFromText(firstText), chatModeName(mode));
    if (!id) {
        emit problem(id.error().message);
        emit messageNotSaved(firstText);
        return false;
    }
    m_conversationId = id.value();
    return true;
}

void ChatController::send(const QString & text, ChatMode mode) {
    if (refuseWhileAnswering() || !ensureConversation(text, mode)) {
        return;
    }
    const qint64 parent = m_messages.isEmpty() ? 0 : m_messages.last().id;
    auto user = m_store->addUserMessage(m_conversationId, parent, text);
    if (!user) {
        emit problem(user.error().message);
        emit messageNotSaved(text);
        reload(); // drops the unsaved preview from the view
        return;
    }
    startAnswer(user.value(), mode);
}

void ChatController::regenerate(qint64 assistantMessageId, ChatMode mode) {
    if (refuseWhileAnswering()) {
        return;
    }
    auto msg = m_store->message(assistantMessageId);
    if (!msg || msg->role != QLatin1String("assistant") || msg->parentId == 0) {
        emit problem(msg ? tr("Only an answer can be regenerated.") : msg.error().message);
        return;
    }
    startAnswer(msg->parentId, mode);
}

void ChatController::editAndResend(qint64 userMessageId, const QString & text, ChatMode mode) {
    if (refuseWhileAnswering()) {
        return;
    }
    auto msg = m_store->message(userMessageId);
    if (!msg || msg->role != QLatin1String("user")) {
        emit problem(msg ? tr("Only your own messages can be edited.") : msg.error().message);
        return;
    }
    auto edited = m_store->addUserMessage(msg->conversationId, msg->parentId, text);
    if (!edited) {
        emit problem(edited.error().message);
        emit messageNotSaved(text);
        return;
    }
    startAnswer(edited.value(), mode);
}

void ChatController::deleteMessage(qint64 messageId) {
    if (refuseWhileAnswering()) {
        return;
    }
    if (Status s = m_store->deleteMessage(messageId); !s) {
        emit problem(s.error().message);
    }
    reload();
}

void ChatController::showSibling(qint64 messageId, int step) {
    if (refuseWhileAnswering()) {
        return;
    }
    auto family = m_store->siblings(messageId);
    if (!family) {
        emit problem(family.error().message);
        return;
    }
    const int target = family->index + step;
    if (target < 0 || target >= family->ids.size()) {
        return;
    }
    if (Status s = m_store->switchToBranch(family->ids.at(target)); !s) {
        emit problem(s.error().message);
    }
    reload();
}

void ChatController::startAnswer(qint64 parentId, ChatMode mode) {
    // The history is the branch down to the parent, read back from the store so regenerate and
    // edit see exactly what is saved.
    if (Status s = m_store->switchToBranch(parentId); !s) {
        emit problem(s.error().message);
        return;
    }
    reload();
    for (int i = 0; i < m_messages.size(); ++i) {
        if (m_messages.at(i).id == parentId) {
            m_messages.resize(i + 1); // regenerate: the older answers below the parent are not history
            break;
        }
    }
    ChatRequest request;
    for (const StoredMessage & m : m_messages) {
        if (!m.content.isEmpty() || !m.thinking.isEmpty()) {
            request.messages.push_back({m.role, m.content, m.thinking});
        }
    }
    // Auto: the Router picks Fast or Expert for the message being answered.
    ChatMode answerMode = mode;
    QString  routeSummary;
    if (mode == ChatMode::Auto && m_profiles && !m_messages.isEmpty()) {
        ConversationContext context;
        for (int i = 0; i + 1 < m_messages.size(); ++i) {
            const StoredMessage & m = m_messages.at(i);
            context.historyChars += m.content.size();
            context.priorUserMessages += m.role == QLatin1String("user") ? 1 : 0;
            if (m.role == QLatin1String("assistant")) {
                context.lastMode = chatModeFromName(m.mode);
            }
        }
        const RouteDecision decision = Router(m_profiles->autoThreshold()).route(m_messages.last().content, context);
        answerMode = decision.mode;
        routeSummary = decision.summary();
    }
    request.model     = m_model;
    request.conversationId = m_conversationId;
    request.thinking  = answerMode == ChatMode::Expert;
    request.maxTokens = m_maxTokens;
    request.sampling.temperature = answerMode == ChatMode::Expert ? 0.6 : 0.7;
    useBackend(m_defaultBackend);
    if (m_profiles && answerMode != ChatMode::Auto) {
        const ModeProfile profile = m_profiles->profile(answerMode);
        applyProfile(profile, request);
        request.model = m_profiles->effectiveModel(profile);
        if (m_chooseBackend) {
            if (ChatBackend * chosen = m_chooseBackend(profile)) useBackend(chosen);
        }
    }

    addDocumentContext(request);

    const QString modeName = chatModeName(answerMode);
    const QString modelName = QFileInfo(request.model).fileName().isEmpty() ? request.model : QFileInfo(request.model).fileName();
    auto answer = m_store->beginAssistantMessage(m_conversationId, parentId, {modelName, m_backend->name(), modeName});
    if (!answer) {
        emit problem(answer.error().message);
        return;
    }
    (void)m_store->setMode(m_conversationId, chatModeName(mode));
    m_answerId = answer.value();
    m_messages.append(m_store->message(m_answerId).value());
    if (!routeSummary.isEmpty()) {
        m_autoAnswerId = m_answerId;
        m_autoChosen = answerMode;
        emit autoRouted(m_answerId, routeSummary, answerMode);
    }
    emit answerStarted(m_answerId, modeName);
    m_backend->start(request);
}

void ChatController::onFinished(const GenerationStats & stats) {
    if (m_answerId == 0) {
        return;
    }
    const qint64 id = std::exchange(m_answerId, 0);
    (void)m_store->finishAssistantMessage(id, stats);
    keepCitations(id);
    QString mode;
    if (auto msg = m_store->message(id)) {
        mode = msg->mode;
    }
    reload();
    emit answerFinished(stats, formatStatsFooter(stats, mode));
    runPendingOverride();
}

void ChatController::onFailed(const ChatError & error) {
    if (m_answerId == 0) {
        return;
    }
    // A stopped or failed answer keeps what was produced, so the next turn sees it too.
    const qint64 id = std::exchange(m_answerId, 0);
    (void)m_store->failAssistantMessage(id, error, true);
    keepCitations(id);
    reload();
    emit answerFailed(error.message, error.kind == ChatError::Kind::Cancelled);
    runPendingOverride();
}

// The conversation's documents (passages numbered [n]) go before the user turn, within what the
// window leaves after the history and the answer's reserve.
void ChatController::addDocumentContext(ChatRequest & request) {
    m_answerContext = {};
    if (!m_documents || m_conversationId == 0 || request.messages.isEmpty() || request.messages.last().role != QLatin1String("user")) {
        return;
    }
    QStringList recentTurns;
    int         historyTokens = 0;
    for (int i = 0; i + 1 < request.messages.size(); ++i) {
        historyTokens += m_documents->tokenCounter().count(request.messages.at(i).content);
        if (i + 5 >= request.messages.size()) {
            recentTurns << request.messages.at(i).content;
        }
    }
    ChatMessage & turn   = request.messages.last();
    const int     budget = m_contextWindow - historyTokens - m_documents->tokenCounter().count(turn.content) - request.maxTokens;
    auto          report = m_documents->contextFor(m_conversationId, turn.content, recentTurns, qMax(budget, 0));
    if (!report) {
        emit problem(tr("The attached documents could not be read: %1").arg(report.error().message));
        return;
    }
    m_answerContext = report.value();
    if (!m_answerContext.promptBlock.isEmpty()) {
        turn.content = m_answerContext.promptBlock + QStringLiteral("\n\n") + turn.content;
    }
    emit documentContextChanged(m_answerContext.attachedDocuments > 0 ? m_answerContext.summary() : QString());
}

void ChatController::keepCitations(qint64 answerId) {
    if (!m_answerContext.included.isEmpty()) {
        if (Status s = m_store->setCitations(answerId, m_answerContext.chunkIds()); !s) {
            emit problem(tr("The answer's citation links were not saved: %1").arg(s.error().message));
        }
        m_citations.insert(answerId, std::exchange(m_answerContext, {}));
    }
}

// Answers given passages in an earlier run: their citations come back from the store.
void ChatController::loadSavedCitations() {
    if (!m_documents || m_conversationId == 0) {
        return;
    }
    auto saved = m_store->citations(m_conversationId);
    if (!saved) {
        return; // the answers show their plain [n]; the store already reported the error
    }
    for (auto it = saved->cbegin(); it != saved->cend(); ++it) {
        if (!m_citations.contains(it.key())) {
            m_citations.insert(it.key(), m_documents->savedCitations(it.value()));
        }
    }
}

QVector<StoredMessage> ChatController::messagesForDisplay() const {
    QVector<StoredMessage> shown = m_messages;
    for (StoredMessage & m : shown) {
        if (auto it = m_citations.constFind(m.id); it != m_citations.cend() && m.id != m_answerId) {
            m.content = documents::withCitationLinks(m.content, it.value());
        }
    }
    return shown;
}

void ChatController::stop() {
    if (m_answerId != 0) {
        m_backend->cancel();
    }
}

QString formatStatsFooter(const GenerationStats & stats, const QString & mode) {
    QStringList parts;
    if (!stats.model.isEmpty()) parts << stats.model;
    if (!mode.isEmpty()) parts << mode.left(1).toUpper() + mode.mid(1);
    if (stats.ttftMs > 0) parts << QStringLiteral("TTFT %1 ms").arg(qRound(stats.ttftMs));
    if (stats.tokensPerSecond > 0) parts << QStringLiteral("%1 tok/s").arg(stats.tokensPerSecond, 0, 'f', 1);
    parts << (stats.promptTokens > 0 ? QStringLiteral("%1 prompt + %2 tokens").arg(stats.promptTokens).arg(stats.completionTokens)
                                     : QStringLiteral("%1 tokens").arg(stats.completionTokens));
    return parts.join(QStringLiteral(" · "));
}

QString titleFromText(const QString & text) {
    QString line = text.trimmed().section(QLatin1Char('\n'), 0, 0).simplified();
    if (line.size() > 60) {
        line = line.left(57).trimmed() + QStringLiteral("…");
    }
    return line.isEmpty() ? QObject::tr("New conversation") : line;
}

} // namespace v4app
