// ConversationStore: conversations and their message trees in the Database, written so that a
// crash, a kill or a full disk never loses a word that was already saved.
//
// Messages form a tree per conversation: regenerate adds an assistant sibling under the same user
// message, editing a user message adds a user sibling under the same parent. Each conversation
// remembers its current leaf; the active branch is the path from the root to that leaf.
//
// Streaming: beginAssistantMessage() writes the row at once (status 'streaming');
// appendToStreaming() keeps the whole text in memory and writes it at most every flushInterval()
// (250 ms) in one small transaction, plus once more on finish/fail. A crash loses at most the last
// interval; on the next start markInterrupted() turns every leftover 'streaming' row into
// 'interrupted' with its partial text. If a write fails (disk full), the text stays in memory,
// storageError() is emitted and the next flush retries.
//
// Thread contract: a ConversationStore and its Database live on one thread (the GUI thread); feed it
// token batches by queued signals (STYLE.md convention 18). It is built in main() and passed to
// whoever needs it (no singleton, P5).
//
// Usage:
//     v4app::ConversationStore store(*db);            // db from Database::open()
//     store.markInterrupted();                        // once at startup
//     const qint64 conv = store.createConversation(QStringLiteral("Trip"), QStringLiteral("fast")).value();
//     const qint64 user = store.addUserMessage(conv, 0, QStringLiteral("Hello")).value();
//     const qint64 ans  = store.beginAssistantMessage(conv, user, {"gemma-3", "local-cpu", "fast"}).value();
//     store.appendToStreaming(ans, QStringLiteral("Hi"), {});           // per token batch
//     store.finishAssistantMessage(ans, stats);                         // GenerationStats
//     for (const auto & m : store.activeBranch(conv).value()) { ... }
#pragma once

#include <functional>

#include "backends/ChatBackend.h"
#include "storage/Database.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QTimer>
#include <QVector>

namespace v4app {

enum class MessageStatus { Complete, Streaming, Interrupted, Failed, Cancelled };

QString                      messageStatusName(MessageStatus status); // "complete", ...
std::optional<MessageStatus> messageStatusFromName(const QString & name);

struct ConversationInfo {
    qint64  id = 0;
    QString title;
    QString mode;
    bool    pinned        = false;
    qint64  currentLeafId = 0; // 0: no messages yet
    qint64  createdAt     = 0; // ms since epoch, UTC
    qint64  updatedAt     = 0;
    qint64  deletedAt     = 0; // 0: not deleted
};

struct StoredMessage {
    qint64          id             = 0;
    qint64          conversationId = 0;
    qint64          parentId       = 0; // 0: first message of the conversation
    QString         role;               // "system", "user", "assistant"
    QString         content;
    QString         thinking;
    QString         mode;
    GenerationStats stats; // backend, model, token counts, ttft, tokens/s, finish reason
    MessageStatus   status = MessageStatus::Complete;
    QString         error;
    qint64          createdAt = 0;
    qint64          updatedAt = 0;
    int             siblingIndex = 0; // filled by activeBranch(): 0-based position among siblings
    int             siblingCount = 1;
};

struct AssistantStart {
    QString model;
    QString backend;
    QString mode;
};

struct SiblingInfo {
    QVector<qint64> ids;   // oldest first
    int             index = 0; // position of the asked-for message in ids
};

struct SearchHit {
    qint64  conversationId = 0;
    QString title;
    qint64  messageId = 0;    // 0 when only the title matched
    QString snippet;          // matched terms wrapped in [ and ]
    bool    titleMatch = false;
};

enum class ExportScope { ActiveBranch, AllBranches };

class ConversationStore final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConversationStore)

public:
    explicit ConversationStore(Database & db, QObject * parent = nullptr);
    ~ConversationStore() override; // flushes pending streams (best effort)

    // ---- conversations
    Expected<qint64>                    createConversation(const QString & title, const QString & mode = {});
    Status                              renameConversation(qint64 id, const QString & title);
    Status                              setPinned(qint64 id, bool pinned);
    Status                              setMode(qint64 id, const QString & mode); // remembered per conversation
    Status                              deleteConversation(qint64 id);     // soft: undoDelete() brings it back
    Status                              undoDelete(qint64 id);
    Expected<int>                       purgeDeleted(qint64 deletedBeforeMs); // hard delete, returns count
    Expected<ConversationInfo>          conversation(qint64 id);
    Expected<QVector<ConversationInfo>> listConversations();  // pinned first, then most recent
    Expected<QVector<ConversationInfo>> listDeleted();        // the trash, most recently deleted first
    // Sidebar search over titles and message content; every word is matched as a prefix and all
    // words must match (in the title or in one message). User text is quoted: FTS5 syntax in the
    // input ("", *, NEAR(, -, AND) is searched for literally, never interpreted.
    Expected<QVector<SearchHit>> search(const QString & text, int limit = 50);

    // ---- messages
    Expected<QVector<StoredMessage>> activeBranch(qint64 conversationId);
    Expected<StoredMessage>          message(qint64 id);
    Expected<SiblingInfo>            siblings(qint64 messageId);
    // Makes the branch through `messageId` active (its newest descendants down to a leaf).
    Status switchToBranch(qint64 messageId);
    // Deletes a message and everything below it. When that was the active branch, the newest
    // remaining sibling's branch becomes active, else the parent becomes the leaf.
    Status deleteMessage(qint64 messageId);

    // parentId 0: first message. Editing a user message = addUserMessage() with the edited
    // message's parent: a sibling, which becomes the active branch.
    Expected<qint64> addUserMessage(qint64 conversationId, qint64 parentId, const QString & content);
    Expected<qint64> addSystemMessage(qint64 conversationId, qint64 parentId, const QString & content);
    // Regenerate = beginAssistantMessage() under the same user message again.
    Expected<qint64> beginAssistantMessage(qint64 conversationId, qint64 parentId, const AssistantStart & start);
    Status           appendToStreaming(qint64 messageId, const QString & textDelta, const QString & thinkingDelta);
    Status           finishAssistantMessage(qint64 messageId, const GenerationStats & stats);
    // keepPartial=false clears the text produced so far; the row stays, with the error, so the UI
    // can show what went wrong. ChatError::Kind::Cancelled gives status 'cancelled'.
    Status failAssistantMessage(qint64 messageId, const ChatError & error, bool keepPartial);
    Status flushAll(); // writes every pending stream now (shutdown, tests)
    // The document passages an answer was given: chunkIds[n - 1] is behind its [n]. Replaces what
    // the message had. citations(): message id -> chunk ids, for the conversation's answers.
    Status                                setCitations(qint64 messageId, const QList<qint64> & chunkIds);
    Expected<QHash<qint64, QList<qint64>>> citations(qint64 conversationId);
    // Startup: every 'streaming' row not being streamed by this store becomes 'interrupted'.
    Expected<int> markInterrupted();

    void setFlushInterval(int ms) { m_flushIntervalMs = ms; }
    int  flushInterval() const { return m_flushIntervalMs; }
    int  flushCount() const { return m_flushCount; } // streaming writes so far (diagnostics, tests)

    // ---- export / import
    Expected<QString>    exportMarkdown(qint64 conversationId, ExportScope scope);
    Expected<QByteArray> exportJson(qint64 conversationId, ExportScope scope);
    // Validates everything first, then inserts in one transaction: a bad file changes nothing.
    Expected<qint64> importJson(const QByteArray & json);
    Expected<qint64> importJsonFile(const QString & path);

signals:
    void conversationsChanged();
    void messageChanged(qint64 conversationId, qint64 messageId);
    void storageError(const v4app::StorageError & error);

private:
    struct PendingStream {
        qint64        conversationId = 0;
        QString       content;
        QString       thinking;
        bool          dirty = false;
        QElapsedTimer sinceFlush;
        // Set by finish/fail; kept until that final write succeeded (retried like a flush).
        enum class Final { None, Finish, Fail } final = Final::None;
        GenerationStats stats;
        MessageStatus   failStatus = MessageStatus::Failed;
        QString         failError;
    };

    Expected<qint64> insertMessage(qint64 conversationId, qint64 parentId, const QString & role,
                                   const QString & content, const AssistantStart & meta, MessageStatus status);
    Status           setCurrentLeaf(qint64 conversationId, qint64 leafId, bool touch);
    Status           flushStream(qint64 messageId, PendingStream & stream);
    Status           finalizeStream(qint64 messageId);
    Status           touchConversation(qint64 conversationId);
    void             onFlushTimer();
    void             scheduleFlush(int inMs);
    Expected<QVector<StoredMessage>> allMessages(qint64 conversationId); // every branch, oldest first
    Expected<QVector<StoredMessage>> branchOrAll(qint64 conversationId, ExportScope scope);
    Expected<QVector<ConversationInfo>> queryConversations(const QString & sql);
    Status           report(Status status);
    // Runs an UPDATE of one conversation (`bindValues` binds its parameters); no matching row is
    // NotFound naming `what` and `id`; success tells the views.
    Status updateConversationRow(const QString & sql, const QString & what, qint64 id,
                                 const std::function<void(SqlStatement &)> & bindValues);
    template <typename T> Expected<T> report(Expected<T> result) {
        if (!result) {
            emit storageError(result.error());
        }
        return result;
    }

    Database &                    m_db;
    QHash<qint64, PendingStream> m_streams;
    QTimer                        m_flushTimer;
    int                           m_flushIntervalMs = 250;
    int                           m_flushCount      = 0;
};

} // namespace v4app
