#include "storage/ConversationStore.h"

#include <functional>

#include <QDateTime>

#include <algorithm>

namespace v4app {

namespace {

qint64 nowMs() {
    return QDateTime::currentMSecsSinceEpoch();
}

// SQLite binds a null QString as NULL; the text columns are NOT NULL DEFAULT ''.
QString nonNull(const QString & s) {
    return s.isNull() ? QStringLiteral("") : s;
}

const QString kMessageColumns = QStringLiteral(
    "m.id, m.conversation_id, m.parent_id, m.role, m.content, m.thinking, m.mode, m.model, m.backend, "
    "m.prompt_tokens, m.completion_tokens, m.reused_prompt_tokens, m.ttft_ms, m.tokens_per_s, m.finish_reason, "
    "m.status, m.error, m.created_at, m.updated_at");

StoredMessage readMessage(const SqlStatement & s) {
    StoredMessage m;
    m.id                       = s.int64(0);
    m.conversationId           = s.int64(1);
    m.parentId                 = s.isNull(2) ? 0 : s.int64(2);
    m.role                     = s.text(3);
    m.content                  = s.text(4);
    m.thinking                 = s.text(5);
    m.mode                     = s.text(6);
    m.stats.model              = s.text(7);
    m.stats.backend            = s.text(8);
    m.stats.promptTokens       = static_cast<int>(s.int64(9));
    m.stats.completionTokens   = static_cast<int>(s.int64(10));
    m.stats.reusedPromptTokens = static_cast<int>(s.int64(11));
    m.stats.ttftMs             = s.real(12);
    m.stats.tokensPerSecond    = s.real(13);
    m.stats.finishReason       = s.text(14);
    m.status                   = messageStatusFromName(s.text(15)).value_or(MessageStatus::Complete);
    m.error                    = s.text(16);
    m.createdAt                = s.int64(17);
    m.updatedAt                = s.int64(18);
    return m;
}

const QString kConversationColumns = QStringLiteral(
    "id, title, mode, pinned, COALESCE(current_leaf_id, 0), created_at, updated_at, COALESCE(deleted_at, 0)");

ConversationInfo readConversation(const SqlStatement & s) {
    ConversationInfo c;
    c.id            = s.int64(0);
    c.title         = s.text(1);
    c.mode          = s.text(2);
    c.pinned        = s.int64(3) != 0;
    c.currentLeafId = s.int64(4);
    c.createdAt     = s.int64(5);
    c.updatedAt     = s.int64(6);
    c.deletedAt     = s.int64(7);
    return c;
}

StorageError notFound(const QString & what, qint64 id) {
    return StorageError::make(StorageError::Kind::NotFound, QStringLiteral("There is no %1 with id %2.").arg(what).arg(id));
}

// User text -> FTS5 query that can only mean "all these words, as prefixes". Every word is quoted
// (inner quotes doubled), so *, -, NEAR(, AND, column: and unbalanced quotes are plain text. Words
// without a letter or digit would quote to an empty phrase, which FTS5 rejects: they are dropped.
QString ftsQuery(const QString & text) {
    QStringList terms;
    for (QString word : text.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        if (std::none_of(word.cbegin(), word.cend(), [](QChar c) { return c.isLetterOrNumber(); })) {
            continue;
        }
        word.replace(QLatin1Char('"'), QStringLiteral("\"\""));
        terms << QLatin1Char('"') + word + QStringLiteral("\"*");
    }
    return terms.join(QLatin1Char(' '));
}

// Lower case, accents removed (NFKD minus combining marks), letters and digits only: close enough
// to FTS5's unicode61 remove_diacritics tokenizer to find the words it matched.
QString fold(const QString & word) {
    QString out;
    for (QChar c : word.normalized(QString::NormalizationForm_KD)) {
        if (c.isLetterOrNumber()) {
            out += c.toCaseFolded();
        }
    }
    return out;
}

QStringList foldedTerms(const QString & text) {
    // FTS5 splits "a*b" or "NEAR(x" into separate tokens too.
    QStringList terms;
    QString     word;
    for (QChar c : text + QLatin1Char(' ')) {
        if (c.isLetterOrNumber() || c.category() == QChar::Mark_NonSpacing) {
            word += c;
        } else if (!word.isEmpty()) {
            if (const QString f = fold(word); !f.isEmpty()) {
                terms << f;
            }
            word.clear();
        }
    }
    return terms;
}

// About a dozen words around the first match, matched words wrapped in [ and ].
QString makeSnippet(const QString & content, const QStringList & terms) {
    const QStringList words   = content.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    const auto        matches = [&](const QString & word) {
        const QString f = fold(word);
        return !f.isEmpty() && std::any_of(terms.cbegin(), terms.cend(), [&](const QString & t) { return f.startsWith(t); });
    };
    qsizetype first = 0;
    while (first < words.size() && !matches(words[first])) {
        ++first;
    }
    if (first == words.size()) {
        first = 0;
    }
    const qsizetype begin = std::max<qsizetype>(0, first - 4);
    const qsizetype end   = std::min<qsizetype>(words.size(), begin + 12);
    QStringList     out;
    for (qsizetype i = begin; i < end; ++i) {
        if (!matches(words[i])) {
            out << words[i];
            continue;
        }
        // Keep punctuation outside the brackets: "(Boots," -> "([Boots],"
        const QString & w = words[i];
        qsizetype       a = 0, b = w.size();
        while (a < b && !w[a].isLetterOrNumber()) {
            ++a;
        }
        while (b > a && !w[b - 1].isLetterOrNumber()) {
            --b;
        }
        out << w.left(a) + QLatin1Char('[') + w.mid(a, b - a) + QLatin1Char(']') + w.mid(b);
    }
    return (begin > 0 ? QStringLiteral("… ") : QString()) + out.join(QLatin1Char(' ')) +
           (end < words.size() ? QStringLiteral(" …") : QString());
}

} // namespace

QString messageStatusName(MessageStatus status) {
    switch (status) {
        case MessageStatus::Complete: return QStringLiteral("complete");
        case MessageStatus::Streaming: return QStringLiteral("streaming");
        case MessageStatus::Interrupted: return QStringLiteral("interrupted");
        case MessageStatus::Failed: return QStringLiteral("failed");
        case MessageStatus::Cancelled: return QStringLiteral("cancelled");
    }
    return QStringLiteral("complete");
}

std::optional<MessageStatus> messageStatusFromName(const QString & name) {
    for (MessageStatus s : {MessageStatus::Complete, MessageStatus::Streaming, MessageStatus::Interrupted,
                            MessageStatus::Failed, MessageStatus::Cancelled}) {
        if (messageStatusName(s) == name) {
            return s;
        }
    }
    return std::nullopt;
}

ConversationStore::ConversationStore(Database & db, QObject * parent) : QObject(parent), m_db(db) {
    qRegisterMetaType<v4app::StorageError>();
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_flushTimer, &QTimer::timeout, this, &ConversationStore::onFlushTimer);
}

ConversationStore::~ConversationStore() {
    (void)flushAll();
}

Status ConversationStore::report(Status status) {
    if (!status) {
        emit storageError(status.error());
    }
    return status;
}

// ---- conversations --------------------------------------------------------------------------

Expected<qint64> ConversationStore::createConversation(const QString & title, const QString & mode) {
    auto stmt = m_db.prepare(QStringLiteral(
        "INSERT INTO conversations (title, mode, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)"));
    if (!stmt) {
        return report(Expected<qint64>(stmt.error()));
    }
    stmt->bind(1, nonNull(title)).bind(2, nonNull(mode));
    stmt->bind(3, nowMs());
    if (Status s = stmt->run(); !s) {
        return report(Expected<qint64>(s.error()));
    }
    const qint64 id = m_db.lastInsertId();
    emit conversationsChanged();
    return id;
}

Status ConversationStore::updateConversationRow(const QString & sql, const QString & what, qint64 id,
                                                const std::function<void(SqlStatement &)> & bindValues) {
    auto stmt = m_db.prepare(sql);
    if (!stmt) {
        return report(stmt.error());
    }
    bindValues(*stmt);
    if (Status s = stmt->run(); !s) {
        return report(s);
    }
    if (m_db.changes() == 0) {
        return report(notFound(what, id));
    }
    emit conversationsChanged();
    return {};
}

Status ConversationStore::renameConversation(qint64 id, const QString & title) {
    return updateConversationRow(QStringLiteral("UPDATE conversations SET title = ?1 WHERE id = ?2"),
                                 QStringLiteral("conversation"), id,
                                 [&](SqlStatement & stmt) { stmt.bind(1, nonNull(title)).bind(2, id); });
}

Status ConversationStore::setPinned(qint64 id, bool pinned) {
    return updateConversationRow(QStringLiteral("UPDATE conversations SET pinned = ?1 WHERE id = ?2"),
                                 QStringLiteral("conversation"), id,
                                 [&](SqlStatement & stmt) { stmt.bind(1, pinned ? 1 : 0).bind(2, id); });
}

Status ConversationStore::setMode(qint64 id, const QString & mode) {
    return updateConversationRow(QStringLiteral("UPDATE conversations SET mode = ?1 WHERE id = ?2"),
                                 QStringLiteral("conversation"), id,
                                 [&](SqlStatement & stmt) { stmt.bind(1, nonNull(mode)).bind(2, id); });
}

Status ConversationStore::deleteConversation(qint64 id) {
    return updateConversationRow(
        QStringLiteral("UPDATE conversations SET deleted_at = ?1 WHERE id = ?2 AND deleted_at IS NULL"),
        QStringLiteral("conversation"), id, [&](SqlStatement & stmt) { stmt.bind(1, nowMs()).bind(2, id); });
}

Status ConversationStore::undoDelete(qint64 id) {
    return updateConversationRow(
        QStringLiteral("UPDATE conversations SET deleted_at = NULL WHERE id = ?1 AND deleted_at IS NOT NULL"),
        QStringLiteral("deleted conversation"), id, [&](SqlStatement & stmt) { stmt.bind(1, id); });
}

Expected<int> ConversationStore::purgeDeleted(qint64 deletedBeforeMs) {
    // Messages go with their conversation (ON DELETE CASCADE); the FTS triggers fire for them too.
    auto stmt = m_db.prepare(
        QStringLiteral("DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at <= ?1"));
    if (!stmt) {
        return report(Expected<int>(stmt.error()));
    }
    stmt->bind(1, deletedBeforeMs);
    if (Status s = stmt->run(); !s) {
        return report(Expected<int>(s.error()));
    }
    return m_db.changes();
}

Expected<ConversationInfo> ConversationStore::conversation(qint64 id) {
    auto stmt = m_db.prepare(QStringLiteral("SELECT %1 FROM conversations WHERE id = ?1").arg(kConversationColumns));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, id);
    auto row = stmt->step();
    if (!row) {
        return row.error();
    }
    if (!row.value()) {
        return notFound(QStringLiteral("conversation"), id);
    }
    return readConversation(*stmt);
}

Expected<QVector<ConversationInfo>> ConversationStore::queryConversations(const QString & sql) {
    auto stmt = m_db.prepare(sql);
    if (!stmt) {
        return stmt.error();
    }
    QVector<ConversationInfo> result;
    const Status rows = stmt->forEachRow([&] {
        result.append(readConversation(*stmt));
    });
    if (!rows) {
        return rows.error();
    }
    return result;
}

Expected<QVector<ConversationInfo>> ConversationStore::listConversations() {
    return queryConversations(QStringLiteral("SELECT %1 FROM conversations WHERE deleted_at IS NULL "
                                             "ORDER BY pinned DESC, updated_at DESC, id DESC")
                                  .arg(kConversationColumns));
}

Expected<QVector<ConversationInfo>> ConversationStore::listDeleted() {
    return queryConversations(QStringLiteral("SELECT %1 FROM conversations WHERE deleted_at IS NOT NULL "
                                             "ORDER BY deleted_at DESC, id DESC")
                                  .arg(kConversationColumns));
}

Expected<QVector<SearchHit>> ConversationStore::search(const QString & text, int limit) {
    QVector<SearchHit> hits;
    const QString      query = ftsQuery(text);
    if (query.isEmpty() || limit <= 0) {
        return hits;
    }
    QHash<qint64, int> byConversation; // conversation id -> index in hits

    // Titles first: a conversation named after what you type is the best answer.
    auto titles = m_db.prepare(QStringLiteral(
        "SELECT c.id, c.title FROM conversations_fts f JOIN conversations c ON c.id = f.rowid "
        "WHERE conversations_fts MATCH ?1 AND c.deleted_at IS NULL ORDER BY c.updated_at DESC LIMIT ?2"));
    if (!titles) {
        return titles.error();
    }
    titles->bind(1, query).bind(2, limit);
    const Status rows = titles->forEachRow([&] {
        SearchHit hit;
        hit.conversationId = titles->int64(0);
        hit.title          = titles->text(1);
        hit.titleMatch     = true;
        byConversation.insert(hit.conversationId, static_cast<int>(hits.size()));
        hits.append(hit);
    });
    if (!rows) {
        return rows.error();
    }

    // Then content, newest message first. FTS5 walks its doclist backwards for ORDER BY rowid DESC
    // and stops at the LIMIT, so a common word costs no more than a rare one (no ranking of every
    // match). The window is wider than `limit` because one conversation can match many times.
    auto content = m_db.prepare(QStringLiteral(
        "SELECT m.conversation_id, m.id, c.title FROM messages_fts f "
        "JOIN messages m ON m.id = f.rowid JOIN conversations c ON c.id = m.conversation_id "
        "WHERE messages_fts MATCH ?1 AND c.deleted_at IS NULL ORDER BY f.rowid DESC LIMIT ?2"));
    if (!content) {
        return content.error();
    }
    content->bind(1, query).bind(2, limit * 8);
    for (;;) {
        auto row = content->step();
        if (!row) {
            return row.error();
        }
        if (!row.value()) {
            break;
        }
        const qint64 conversationId = content->int64(0);
        auto         it             = byConversation.constFind(conversationId);
        if (it != byConversation.cend()) {
            if (hits[*it].messageId == 0) {
                hits[*it].messageId = content->int64(1);
            }
            continue;
        }
        if (hits.size() >= limit) {
            continue;
        }
        SearchHit hit;
        hit.conversationId = conversationId;
        hit.messageId      = content->int64(1);
        hit.title          = content->text(2);
        byConversation.insert(conversationId, static_cast<int>(hits.size()));
        hits.append(hit);
    }

    // Snippets only for what is shown, cut from the text here: FTS5's snippet() would re-run the
    // MATCH per row, which costs milliseconds each for common words (see docs/notes-storage.md).
    if (hits.isEmpty()) {
        return hits;
    }
    QStringList wanted;
    for (const SearchHit & hit : hits) {
        if (hit.messageId != 0) {
            wanted << QString::number(hit.messageId);
        }
    }
    if (!wanted.isEmpty()) {
        auto texts = m_db.prepare(
            QStringLiteral("SELECT id, content FROM messages WHERE id IN (%1)").arg(wanted.join(QLatin1Char(','))));
        if (!texts) {
            return texts.error();
        }
        QHash<qint64, QString> snippets;
        const QStringList      terms = foldedTerms(text);
        const Status rows = texts->forEachRow([&] {
            snippets.insert(texts->int64(0), makeSnippet(texts->text(1), terms));
        });
        if (!rows) {
            return rows.error();
        }
        for (SearchHit & hit : hits) {
            hit.snippet = snippets.value(hit.messageId);
        }
    }
    return hits;
}

// ---- messages -------------------------------------------------------------------------------

Expected<StoredMessage> ConversationStore::message(qint64 id) {
    auto stmt = m_db.prepare(QStringLiteral("SELECT %1 FROM messages m WHERE m.id = ?1").arg(kMessageColumns));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, id);
    auto row = stmt->step();
    if (!row) {
        return row.error();
    }
    if (!row.value()) {
        return notFound(QStringLiteral("message"), id);
    }
    StoredMessage m = readMessage(*stmt);
    // What is in memory is newer than the last flush.
    if (auto it = m_streams.constFind(id); it != m_streams.cend()) {
        m.content  = it->content;
        m.thinking = it->thinking;
    }
    return m;
}

Expected<QVector<StoredMessage>> ConversationStore::activeBranch(qint64 conversationId) {
    // Walk from the current leaf up to the root, then read it root first. The sibling position of
    // each message comes from the (conversation_id, parent_id, id) index.
    auto stmt = m_db.prepare(QStringLiteral(
        "WITH RECURSIVE path(id, depth) AS ("
        "  SELECT current_leaf_id, 0 FROM conversations WHERE id = ?1 AND current_leaf_id IS NOT NULL"
        "  UNION ALL"
        "  SELECT m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.id"
        "  WHERE m.parent_id IS NOT NULL) "
        "SELECT %1,"
        " (SELECT count(*) FROM messages s WHERE s.conversation_id = m.conversation_id AND s.parent_id IS m.parent_id"
        "   AND s.id < m.id),"
        " (SELECT count(*) FROM messages s WHERE s.conversation_id = m.conversation_id AND s.parent_id IS m.parent_id) "
        "FROM path JOIN messages m ON m.id = path.id ORDER BY path.depth DESC")
                                 .arg(kMessageColumns));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, conversationId);
    QVector<StoredMessage> result;
    const Status rows = stmt->forEachRow([&] {
        StoredMessage m = readMessage(*stmt);
        m.siblingIndex  = static_cast<int>(stmt->int64(19));
        m.siblingCount  = static_cast<int>(stmt->int64(20));
        if (auto it = m_streams.constFind(m.id); it != m_streams.cend()) {
            m.content  = it->content;
            m.thinking = it->thinking;
        }
        result.append(m);
    });
    if (!rows) {
        return rows.error();
    }
    return result;
}

Expected<QVector<StoredMessage>> ConversationStore::allMessages(qint64 conversationId) {
    auto stmt = m_db.prepare(
        QStringLiteral("SELECT %1 FROM messages m WHERE m.conversation_id = ?1 ORDER BY m.id").arg(kMessageColumns));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, conversationId);
    QVector<StoredMessage> result;
    const Status rows = stmt->forEachRow([&] {
        StoredMessage m = readMessage(*stmt);
        if (auto it = m_streams.constFind(m.id); it != m_streams.cend()) {
            m.content  = it->content;
            m.thinking = it->thinking;
        }
        result.append(m);
    });
    if (!rows) {
        return rows.error();
    }
    return result;
}

Expected<SiblingInfo> ConversationStore::siblings(qint64 messageId) {
    auto stmt = m_db.prepare(QStringLiteral(
        "SELECT s.id FROM messages m JOIN messages s ON s.conversation_id = m.conversation_id "
        "AND s.parent_id IS m.parent_id WHERE m.id = ?1 ORDER BY s.id"));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, messageId);
    SiblingInfo info;
    const Status rows = stmt->forEachRow([&] {
        if (stmt->int64(0) == messageId) {
            info.index = static_cast<int>(info.ids.size());
        }
        info.ids.append(stmt->int64(0));
    });
    if (!rows) {
        return rows.error();
    }
    if (info.ids.isEmpty()) {
        return notFound(QStringLiteral("message"), messageId);
    }
    return info;
}

Status ConversationStore::switchToBranch(qint64 messageId) {
    auto msg = message(messageId);
    if (!msg) {
        return msg.error();
    }
    auto child = m_db.prepare(QStringLiteral("SELECT max(id) FROM messages WHERE parent_id = ?1"));
    if (!child) {
        return child.error();
    }
    qint64 leaf = messageId;
    for (;;) {
        child->reset();
        child->bind(1, leaf);
        auto row = child->step();
        if (!row) {
            return row.error();
        }
        if (!row.value() || child->isNull(0)) {
            break;
        }
        leaf = child->int64(0);
    }
    if (Status s = setCurrentLeaf(msg->conversationId, leaf, false); !s) {
        return report(s);
    }
    emit messageChanged(msg->conversationId, leaf);
    return {};
}

Status ConversationStore::setCitations(qint64 messageId, const QList<qint64> & chunkIds) {
    Transaction transaction(m_db);
    if (Status s = transaction.begin(); !s) {
        return report(s);
    }
    auto clear = m_db.prepare(QStringLiteral("DELETE FROM message_citations WHERE message_id = ?1"));
    if (!clear) {
        return report(Status(clear.error()));
    }
    clear->bind(1, messageId);
    if (Status s = clear->run(); !s) {
        return report(s);
    }
    auto insert = m_db.prepare(QStringLiteral("INSERT INTO message_citations(message_id, number, chunk_id) VALUES (?1, ?2, ?3)"));
    if (!insert) {
        return report(Status(insert.error()));
    }
    for (qsizetype i = 0; i < chunkIds.size(); ++i) {
        insert->reset();
        insert->bind(1, messageId).bind(2, qint64(i + 1)).bind(3, chunkIds.at(i));
        if (Status s = insert->run(); !s) {
            return report(s);
        }
    }
    return report(transaction.commit());
}

Expected<QHash<qint64, QList<qint64>>> ConversationStore::citations(qint64 conversationId) {
    auto stmt = m_db.prepare(QStringLiteral("SELECT c.message_id, c.chunk_id FROM message_citations c "
                                            "JOIN messages m ON m.id = c.message_id "
                                            "WHERE m.conversation_id = ?1 ORDER BY c.message_id, c.number"));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, conversationId);
    QHash<qint64, QList<qint64>> out;
    SqlStatement & row = stmt.value();
    if (Status s = row.forEachRow([&] { out[row.int64(0)].append(row.int64(1)); }); !s) {
        return s.error();
    }
    return out;
}

Status ConversationStore::deleteMessage(qint64 messageId) {
    auto msg = message(messageId);
    if (!msg) {
        return report(msg.error());
    }
    auto family = siblings(messageId);
    if (!family) {
        return report(family.error());
    }
    m_streams.remove(messageId); // a stream being deleted is not written back
    auto stmt = m_db.prepare(QStringLiteral("DELETE FROM messages WHERE id = ?1"));
    if (!stmt) {
        return report(stmt.error());
    }
    stmt->bind(1, messageId);
    if (Status s = stmt->run(); !s) {
        return report(s);
    }
    // The leaf was this message or below it when ON DELETE SET NULL cleared current_leaf_id.
    auto leaf = m_db.prepare(QStringLiteral("SELECT current_leaf_id IS NULL FROM conversations WHERE id = ?1"));
    if (!leaf) {
        return report(leaf.error());
    }
    leaf->bind(1, msg->conversationId);
    auto row = leaf->step();
    if (!row) {
        return report(row.error());
    }
    if (row.value() && leaf->int64(0) != 0) {
        family->ids.removeAll(messageId);
        if (!family->ids.isEmpty()) {
            return switchToBranch(family->ids.last());
        }
        if (msg->parentId != 0) {
            if (Status s = setCurrentLeaf(msg->conversationId, msg->parentId, false); !s) {
                return report(s);
            }
        }
    }
    emit messageChanged(msg->conversationId, msg->parentId);
    return {};
}

Status ConversationStore::setCurrentLeaf(qint64 conversationId, qint64 leafId, bool touch) {
    auto stmt = m_db.prepare(touch ? QStringLiteral("UPDATE conversations SET current_leaf_id = ?1, updated_at = ?3 "
                                                    "WHERE id = ?2")
                                   : QStringLiteral("UPDATE conversations SET current_leaf_id = ?1 WHERE id = ?2"));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, leafId).bind(2, conversationId);
    if (touch) {
        stmt->bind(3, nowMs());
    }
    return stmt->run();
}

Expected<qint64> ConversationStore::insertMessage(qint64 conversationId, qint64 parentId, const QString & role,
                                                  const QString & content, const AssistantStart & meta,
                                                  MessageStatus status) {
    Transaction transaction(m_db);
    if (Status s = transaction.begin(); !s) {
        return s.error();
    }
    // The parent must be in the same conversation: a cross-conversation tree would be unreadable.
    auto check = m_db.prepare(parentId != 0
                                  ? QStringLiteral("SELECT 1 FROM messages WHERE id = ?2 AND conversation_id = ?1")
                                  : QStringLiteral("SELECT 1 FROM conversations WHERE id = ?1"));
    if (!check) {
        return check.error();
    }
    check->bind(1, conversationId);
    if (parentId != 0) {
        check->bind(2, parentId);
    }
    auto found = check->step();
    if (!found) {
        return found.error();
    }
    if (!found.value()) {
        return parentId != 0 ? notFound(QStringLiteral("message in conversation %1").arg(conversationId), parentId)
                             : notFound(QStringLiteral("conversation"), conversationId);
    }
    check = SqlStatement();

    const qint64 now  = nowMs();
    auto         stmt = m_db.prepare(QStringLiteral(
        "INSERT INTO messages (conversation_id, parent_id, role, content, model, backend, mode, status, created_at, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, conversationId);
    if (parentId != 0) {
        stmt->bind(2, parentId);
    } else {
        stmt->bindNull(2);
    }
    stmt->bind(3, role).bind(4, nonNull(content));
    stmt->bind(5, nonNull(meta.model)).bind(6, nonNull(meta.backend));
    stmt->bind(7, nonNull(meta.mode)).bind(8, messageStatusName(status)).bind(9, now);
    if (Status s = stmt->run(); !s) {
        return s.error();
    }
    const qint64 id = m_db.lastInsertId();
    if (Status s = setCurrentLeaf(conversationId, id, true); !s) {
        return s.error();
    }
    if (Status s = transaction.commit(); !s) {
        return s.error();
    }
    return id;
}

Expected<qint64> ConversationStore::addUserMessage(qint64 conversationId, qint64 parentId, const QString & content) {
    auto id = report(insertMessage(conversationId, parentId, QStringLiteral("user"), content, {},
                                   MessageStatus::Complete));
    if (id) {
        emit messageChanged(conversationId, id.value());
        emit conversationsChanged();
    }
    return id;
}

Expected<qint64> ConversationStore::addSystemMessage(qint64 conversationId, qint64 parentId, const QString & content) {
    auto id = report(insertMessage(conversationId, parentId, QStringLiteral("system"), content, {},
                                   MessageStatus::Complete));
    if (id) {
        emit messageChanged(conversationId, id.value());
    }
    return id;
}

Expected<qint64> ConversationStore::beginAssistantMessage(qint64 conversationId, qint64 parentId,
                                                          const AssistantStart & start) {
    // The row exists before the first token: if we die now, the next start shows an interrupted
    // (empty) answer instead of nothing.
    auto id = report(insertMessage(conversationId, parentId, QStringLiteral("assistant"), QString(), start,
                                   MessageStatus::Streaming));
    if (id) {
        PendingStream & stream = m_streams[id.value()];
        stream.conversationId  = conversationId;
        stream.sinceFlush.start();
        emit messageChanged(conversationId, id.value());
        emit conversationsChanged();
    }
    return id;
}

Status ConversationStore::appendToStreaming(qint64 messageId, const QString & textDelta, const QString & thinkingDelta) {
    auto it = m_streams.find(messageId);
    if (it == m_streams.end()) {
        return report(StorageError::make(StorageError::Kind::NotFound,
                                         QStringLiteral("Message %1 is not being streamed.").arg(messageId)));
    }
    it->content += textDelta;
    it->thinking += thinkingDelta;
    it->dirty = true;
    const qint64 elapsed = it->sinceFlush.elapsed();
    if (elapsed >= m_flushIntervalMs) {
        return flushStream(messageId, *it);
    }
    scheduleFlush(static_cast<int>(m_flushIntervalMs - elapsed));
    return {};
}

void ConversationStore::scheduleFlush(int inMs) {
    if (!m_flushTimer.isActive() || m_flushTimer.remainingTime() > inMs) {
        m_flushTimer.start(std::max(inMs, 1));
    }
}

void ConversationStore::onFlushTimer() {
    qint64       nextDue = -1;
    const auto   ids     = m_streams.keys();
    for (qint64 id : ids) {
        auto it = m_streams.find(id);
        if (it == m_streams.end() || (!it->dirty && it->final == PendingStream::Final::None)) {
            continue;
        }
        const qint64 remaining = m_flushIntervalMs - it->sinceFlush.elapsed();
        if (remaining <= 1) {
            (void)flushStream(id, *it); // errors were reported; a failed stream stays dirty
            it = m_streams.find(id);
            if (it == m_streams.end() || (!it->dirty && it->final == PendingStream::Final::None)) {
                continue;
            }
        }
        const qint64 due = std::max<qint64>(1, m_flushIntervalMs - it->sinceFlush.elapsed());
        nextDue          = nextDue < 0 ? due : std::min(nextDue, due);
    }
    if (nextDue > 0) {
        scheduleFlush(static_cast<int>(nextDue));
    }
}

Status ConversationStore::flushStream(qint64 messageId, PendingStream & stream) {
    if (stream.final != PendingStream::Final::None) {
        return finalizeStream(messageId); // a finish/fail that could not be saved yet: retry it
    }
    // The whole text each time, not a delta: idempotent, so a failed write is simply redone.
    auto stmt = m_db.prepare(
        QStringLiteral("UPDATE messages SET content = ?1, thinking = ?2, updated_at = ?3 WHERE id = ?4"));
    if (!stmt) {
        return report(stmt.error());
    }
    stmt->bind(1, nonNull(stream.content)).bind(2, nonNull(stream.thinking)).bind(3, nowMs()).bind(4, messageId);
    stream.sinceFlush.restart(); // success or not: the next attempt comes one interval later
    if (Status s = stmt->run(); !s) {
        scheduleFlush(m_flushIntervalMs);
        return report(s);
    }
    if (m_db.changes() == 0) { // the conversation was purged under us
        const qint64 conversationId = stream.conversationId;
        m_streams.remove(messageId);
        return report(notFound(QStringLiteral("message (in conversation %1)").arg(conversationId), messageId));
    }
    stream.dirty = false;
    ++m_flushCount;
    emit messageChanged(stream.conversationId, messageId);
    return {};
}

Status ConversationStore::flushAll() {
    Status     result;
    const auto ids = m_streams.keys();
    for (qint64 id : ids) {
        auto it = m_streams.find(id);
        if (it != m_streams.end() && (it->dirty || it->final != PendingStream::Final::None)) {
            if (Status s = flushStream(id, *it); !s && result) {
                result = s;
            }
        }
    }
    return result;
}

Status ConversationStore::finishAssistantMessage(qint64 messageId, const GenerationStats & stats) {
    auto it = m_streams.find(messageId);
    if (it == m_streams.end()) {
        return report(StorageError::make(StorageError::Kind::NotFound,
                                         QStringLiteral("Message %1 is not being streamed.").arg(messageId)));
    }
    it->final = PendingStream::Final::Finish;
    it->stats = stats;
    return finalizeStream(messageId);
}

Status ConversationStore::failAssistantMessage(qint64 messageId, const ChatError & error, bool keepPartial) {
    auto it = m_streams.find(messageId);
    if (it == m_streams.end()) {
        return report(StorageError::make(StorageError::Kind::NotFound,
                                         QStringLiteral("Message %1 is not being streamed.").arg(messageId)));
    }
    if (!keepPartial) {
        it->content.clear();
        it->thinking.clear();
    }
    it->final      = PendingStream::Final::Fail;
    it->failStatus = error.kind == ChatError::Kind::Cancelled ? MessageStatus::Cancelled : MessageStatus::Failed;
    it->failError  = error.message;
    return finalizeStream(messageId);
}

// Writes the last text together with the final status (and stats) in one transaction. On failure
// the stream stays in memory, marked final, and the flush timer retries until it is saved.
Status ConversationStore::finalizeStream(qint64 messageId) {
    auto it = m_streams.find(messageId);
    if (it == m_streams.end()) {
        return {};
    }
    const PendingStream & p = *it;
    Transaction           transaction(m_db);
    Status                s = transaction.begin();
    if (s) {
        auto stmt = m_db.prepare(p.final == PendingStream::Final::Finish
            ? QStringLiteral("UPDATE messages SET content = ?1, thinking = ?2, status = 'complete', error = NULL, "
                             "updated_at = ?3, model = CASE WHEN ?5 = '' THEN model ELSE ?5 END, "
                             "backend = CASE WHEN ?6 = '' THEN backend ELSE ?6 END, prompt_tokens = ?7, "
                             "completion_tokens = ?8, reused_prompt_tokens = ?9, ttft_ms = ?10, tokens_per_s = ?11, "
                             "finish_reason = ?12 WHERE id = ?4")
            : QStringLiteral("UPDATE messages SET content = ?1, thinking = ?2, updated_at = ?3, status = ?5, "
                             "error = ?6 WHERE id = ?4"));
        if (!stmt) {
            s = stmt.error();
        } else {
            stmt->bind(1, nonNull(p.content)).bind(2, nonNull(p.thinking)).bind(3, nowMs()).bind(4, messageId);
            if (p.final == PendingStream::Final::Finish) {
                stmt->bind(5, nonNull(p.stats.model)).bind(6, nonNull(p.stats.backend));
                stmt->bind(7, p.stats.promptTokens).bind(8, p.stats.completionTokens);
                stmt->bind(9, p.stats.reusedPromptTokens).bind(10, p.stats.ttftMs);
                stmt->bind(11, p.stats.tokensPerSecond).bind(12, p.stats.finishReason);
            } else {
                stmt->bind(5, messageStatusName(p.failStatus)).bind(6, nonNull(p.failError));
            }
            s = stmt->run();
        }
    }
    if (s) {
        s = touchConversation(p.conversationId);
    }
    if (s) {
        s = transaction.commit();
    }
    if (!s) {
        it->dirty = true;
        it->sinceFlush.restart();
        scheduleFlush(m_flushIntervalMs);
        return report(s);
    }
    const qint64 conversationId = p.conversationId;
    m_streams.erase(it);
    emit messageChanged(conversationId, messageId);
    emit conversationsChanged();
    return {};
}

Status ConversationStore::touchConversation(qint64 conversationId) {
    auto stmt = m_db.prepare(QStringLiteral("UPDATE conversations SET updated_at = ?1 WHERE id = ?2"));
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, nowMs()).bind(2, conversationId);
    return stmt->run();
}

Expected<int> ConversationStore::markInterrupted() {
    QStringList live;
    for (auto it = m_streams.cbegin(); it != m_streams.cend(); ++it) {
        live << QString::number(it.key());
    }
    auto stmt = m_db.prepare(QStringLiteral("UPDATE messages SET status = 'interrupted', updated_at = ?1 "
                                            "WHERE status = 'streaming' AND id NOT IN (%1)")
                                 .arg(live.join(QLatin1Char(','))));
    if (!stmt) {
        return report(Expected<int>(stmt.error()));
    }
    stmt->bind(1, nowMs());
    if (Status s = stmt->run(); !s) {
        return report(Expected<int>(s.error()));
    }
    const int count = m_db.changes();
    if (count > 0) {
        qCInfo(lcStorage, "marked %d unfinished answer(s) as interrupted", count);
        emit conversationsChanged();
    }
    return count;
}

} // namespace v4app
