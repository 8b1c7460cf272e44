// ConversationStore: export to Markdown/JSON and validated JSON import (split from
// ConversationStore.cpp to keep files short).
//
// JSON format (version 1):
//   { "format": "v4chat.conversation", "version": 1, "scope": "active_branch" | "all_branches",
//     "conversation": { "title", "mode", "pinned", "created_at", "updated_at" },
//     "current_leaf": <message id or null>,
//     "messages": [ { "id", "parent_id" (null for the first), "role", "content", "thinking", "model",
//                     "backend", "mode", "prompt_tokens", "completion_tokens", "reused_prompt_tokens",
//                     "ttft_ms", "tokens_per_s", "finish_reason", "status", "error", "created_at",
//                     "updated_at" }, ... ] }   parents before children; times are ISO 8601 UTC.
// Ids in the file only link messages to their parents; import gives them new ids.
#include "storage/ConversationStore.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

namespace v4app {

namespace {

const QString kFormat        = QStringLiteral("v4chat.conversation");
constexpr int kFormatVersion = 1;
constexpr qint64 kMaxImportBytes = 512LL * 1024 * 1024;

QString isoTime(qint64 ms) {
    return QDateTime::fromMSecsSinceEpoch(ms).toUTC().toString(Qt::ISODateWithMs);
}

QJsonValue optionalString(const QString & s) {
    return s.isEmpty() ? QJsonValue() : QJsonValue(s);
}

QJsonObject messageToJson(const StoredMessage & m) {
    QJsonObject o;
    o[QStringLiteral("id")]                   = m.id;
    o[QStringLiteral("parent_id")]            = m.parentId != 0 ? QJsonValue(m.parentId) : QJsonValue();
    o[QStringLiteral("role")]                 = m.role;
    o[QStringLiteral("content")]              = m.content;
    o[QStringLiteral("thinking")]             = m.thinking;
    o[QStringLiteral("model")]                = m.stats.model;
    o[QStringLiteral("backend")]              = m.stats.backend;
    o[QStringLiteral("mode")]                 = m.mode;
    o[QStringLiteral("prompt_tokens")]        = m.stats.promptTokens;
    o[QStringLiteral("completion_tokens")]    = m.stats.completionTokens;
    o[QStringLiteral("reused_prompt_tokens")] = m.stats.reusedPromptTokens;
    o[QStringLiteral("ttft_ms")]              = m.stats.ttftMs;
    o[QStringLiteral("tokens_per_s")]         = m.stats.tokensPerSecond;
    o[QStringLiteral("finish_reason")]        = optionalString(m.stats.finishReason);
    o[QStringLiteral("status")]               = messageStatusName(m.status);
    o[QStringLiteral("error")]                = optionalString(m.error);
    o[QStringLiteral("created_at")]           = isoTime(m.createdAt);
    o[QStringLiteral("updated_at")]           = isoTime(m.updatedAt);
    return o;
}

QString roleHeading(const QString & role) {
    if (role == QLatin1String("user")) {
        return QStringLiteral("User");
    }
    if (role == QLatin1String("system")) {
        return QStringLiteral("System");
    }
    return QStringLiteral("Assistant");
}

void appendMarkdown(QString & out, const StoredMessage & m, const QString & branchLabel) {
    out += QStringLiteral("### ") + roleHeading(m.role);
    if (m.role == QLatin1String("assistant") && !m.stats.model.isEmpty()) {
        out += QStringLiteral(" · ") + m.stats.model;
    }
    if (!branchLabel.isEmpty()) {
        out += QStringLiteral(" · ") + branchLabel;
    }
    out += QStringLiteral("\n\n");
    if (!m.thinking.isEmpty()) {
        out += QStringLiteral("<details><summary>Thinking</summary>\n\n") + m.thinking +
               QStringLiteral("\n\n</details>\n\n");
    }
    out += m.content + QStringLiteral("\n\n");
    QStringList notes;
    if (m.stats.completionTokens > 0) {
        notes << QStringLiteral("%1 prompt + %2 completion tokens").arg(m.stats.promptTokens).arg(m.stats.completionTokens);
    }
    if (m.stats.tokensPerSecond > 0) {
        notes << QStringLiteral("%1 tok/s").arg(m.stats.tokensPerSecond, 0, 'f', 1);
    }
    if (m.stats.ttftMs > 0) {
        notes << QStringLiteral("first token %1 ms").arg(m.stats.ttftMs, 0, 'f', 0);
    }
    if (m.status != MessageStatus::Complete) {
        notes << messageStatusName(m.status) + (m.error.isEmpty() ? QString() : QStringLiteral(": ") + m.error);
    }
    if (!notes.isEmpty()) {
        out += QStringLiteral("*") + notes.join(QStringLiteral(" · ")) + QStringLiteral("*\n\n");
    }
}

StorageError invalid(const QString & what) {
    return StorageError::make(StorageError::Kind::InvalidInput,
                              QStringLiteral("This file cannot be imported: %1. Nothing was imported.").arg(what));
}

// JSON numbers are doubles: an id must be a whole number in range.
std::optional<qint64> wholeNumber(const QJsonValue & v) {
    if (!v.isDouble()) {
        return std::nullopt;
    }
    const double d = v.toDouble();
    if (d != static_cast<double>(static_cast<qint64>(d)) || d < 1 || d > 9007199254740992.0) {
        return std::nullopt;
    }
    return static_cast<qint64>(d);
}

} // namespace

Expected<QVector<StoredMessage>> ConversationStore::branchOrAll(qint64 conversationId, ExportScope scope) {
    return scope == ExportScope::ActiveBranch ? activeBranch(conversationId) : allMessages(conversationId);
}

Expected<QString> ConversationStore::exportMarkdown(qint64 conversationId, ExportScope scope) {
    auto info = conversation(conversationId);
    if (!info) {
        return info.error();
    }
    auto messages = branchOrAll(conversationId, scope);
    if (!messages) {
        return messages.error();
    }
    QString out = QStringLiteral("# ") + (info->title.isEmpty() ? QStringLiteral("Untitled") : info->title) +
                  QStringLiteral("\n\n*Exported from V4 Chat on ") +
                  QDateTime::currentDateTimeUtc().toString(Qt::ISODate) + QStringLiteral(" · %1 messages").arg(messages->size()) +
                  (scope == ExportScope::AllBranches ? QStringLiteral(", all branches") : QString()) +
                  QStringLiteral("*\n\n");

    if (scope == ExportScope::ActiveBranch) {
        for (const StoredMessage & m : messages.value()) {
            const QString label = m.siblingCount > 1
                                      ? QStringLiteral("version %1 of %2").arg(m.siblingIndex + 1).arg(m.siblingCount)
                                      : QString();
            appendMarkdown(out, m, label);
        }
        return out;
    }

    // All branches: depth first, siblings oldest first, each labelled with its place in the tree.
    QHash<qint64, QVector<const StoredMessage *>> children;
    for (const StoredMessage & m : messages.value()) {
        children[m.parentId].append(&m);
    }
    struct Frame {
        const StoredMessage * message;
        QString               path;
    };
    QVector<Frame> stack;
    const auto     pushChildren = [&](qint64 parentId, const QString & prefix) {
        const auto & kids = children.value(parentId);
        for (qsizetype i = kids.size() - 1; i >= 0; --i) {
            const QString step = kids.size() > 1 ? QStringLiteral("%1/%2").arg(i + 1).arg(kids.size()) : QString();
            stack.append({kids[i], step.isEmpty() ? prefix
                                                  : (prefix.isEmpty() ? step : prefix + QStringLiteral(" › ") + step)});
        }
    };
    pushChildren(0, QString());
    while (!stack.isEmpty()) {
        const Frame frame = stack.takeLast();
        appendMarkdown(out, *frame.message,
                       frame.path.isEmpty() ? QString() : QStringLiteral("branch ") + frame.path);
        pushChildren(frame.message->id, frame.path);
    }
    return out;
}

Expected<QByteArray> ConversationStore::exportJson(qint64 conversationId, ExportScope scope) {
    auto info = conversation(conversationId);
    if (!info) {
        return info.error();
    }
    auto messages = branchOrAll(conversationId, scope);
    if (!messages) {
        return messages.error();
    }
    QJsonObject conv;
    conv[QStringLiteral("title")]      = info->title;
    conv[QStringLiteral("mode")]       = info->mode;
    conv[QStringLiteral("pinned")]     = info->pinned;
    conv[QStringLiteral("created_at")] = isoTime(info->createdAt);
    conv[QStringLiteral("updated_at")] = isoTime(info->updatedAt);
    QJsonArray list;
    for (const StoredMessage & m : messages.value()) {
        list.append(messageToJson(m));
    }
    QJsonObject root;
    root[QStringLiteral("format")]       = kFormat;
    root[QStringLiteral("version")]      = kFormatVersion;
    root[QStringLiteral("scope")] = scope == ExportScope::ActiveBranch ? QStringLiteral("active_branch")
                                                                       : QStringLiteral("all_branches");
    root[QStringLiteral("conversation")] = conv;
    root[QStringLiteral("current_leaf")] = info->currentLeafId != 0 ? QJsonValue(info->currentLeafId) : QJsonValue();
    root[QStringLiteral("messages")]     = list;
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

Expected<qint64> ConversationStore::importJsonFile(const QString & path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return report(Expected<qint64>(StorageError::make(
            StorageError::Kind::Io, QStringLiteral("Could not read “%1”: %2.").arg(path, file.errorString()))));
    }
    if (file.size() > kMaxImportBytes) {
        return report(Expected<qint64>(invalid(QStringLiteral("it is larger than 512 MB"))));
    }
    return importJson(file.readAll());
}

Expected<qint64> ConversationStore::importJson(const QByteArray & json) {
    // 1. Validate everything before touching the database.
    QJsonParseError     parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return invalid(QStringLiteral("it is not valid JSON (%1 at byte %2)")
                           .arg(parseError.errorString())
                           .arg(parseError.offset));
    }
    if (!doc.isObject()) {
        return invalid(QStringLiteral("the top level is not a JSON object"));
    }
    const QJsonObject root = doc.object();
    if (root.value(QStringLiteral("format")).toString() != kFormat) {
        return invalid(QStringLiteral("it is not a V4 Chat conversation export (\"format\" is not \"%1\")").arg(kFormat));
    }
    const QJsonValue version = root.value(QStringLiteral("version"));
    if (!version.isDouble() || version.toDouble() < 1) {
        return invalid(QStringLiteral("\"version\" is missing"));
    }
    if (version.toDouble() > kFormatVersion) {
        return invalid(QStringLiteral("it was written by a newer V4 Chat (format version %1; this version reads %2)")
                           .arg(version.toDouble())
                           .arg(kFormatVersion));
    }
    const QJsonObject conv = root.value(QStringLiteral("conversation")).toObject();
    if (!root.value(QStringLiteral("conversation")).isObject() || !conv.value(QStringLiteral("title")).isString()) {
        return invalid(QStringLiteral("\"conversation\" with a \"title\" is missing"));
    }
    if (!root.value(QStringLiteral("messages")).isArray()) {
        return invalid(QStringLiteral("\"messages\" is missing or not a list"));
    }
    const QJsonArray messages = root.value(QStringLiteral("messages")).toArray();
    const qint64     now      = QDateTime::currentMSecsSinceEpoch();
    const auto       timeOf   = [now](const QJsonValue & v, bool * ok) -> qint64 {
        *ok = true;
        if (v.isUndefined() || v.isNull()) {
            return now;
        }
        const QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
        *ok               = v.isString() && t.isValid();
        return t.toMSecsSinceEpoch();
    };

    struct Row {
        qint64          fileId = 0;
        qint64          fileParent = 0;
        StoredMessage   m;
    };
    QVector<Row> rows;
    QSet<qint64> seen;
    const QSet<QString> roles = {QStringLiteral("system"), QStringLiteral("user"), QStringLiteral("assistant")};
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QString where = QStringLiteral("message %1").arg(i + 1);
        if (!messages[i].isObject()) {
            return invalid(where + QStringLiteral(" is not an object"));
        }
        const QJsonObject o = messages[i].toObject();
        Row               row;
        const auto        id = wholeNumber(o.value(QStringLiteral("id")));
        if (!id) {
            return invalid(where + QStringLiteral(" has no valid \"id\""));
        }
        if (seen.contains(*id)) {
            return invalid(where + QStringLiteral(" repeats id %1").arg(*id));
        }
        row.fileId = *id;
        const QJsonValue parent = o.value(QStringLiteral("parent_id"));
        if (!parent.isNull() && !parent.isUndefined()) {
            const auto p = wholeNumber(parent);
            if (!p || !seen.contains(*p)) {
                return invalid(where + QStringLiteral(" has a \"parent_id\" that is not an earlier message"));
            }
            row.fileParent = *p;
        }
        const auto text = [&](const char * key, QString * out) {
            const QJsonValue v = o.value(QLatin1String(key));
            if (v.isUndefined() || v.isNull()) {
                *out = QStringLiteral("");
                return true;
            }
            *out = v.toString();
            return v.isString();
        };
        StoredMessage & m = row.m;
        if (!o.value(QStringLiteral("role")).isString() || !roles.contains(o.value(QStringLiteral("role")).toString())) {
            return invalid(where + QStringLiteral(": \"role\" must be system, user or assistant"));
        }
        m.role = o.value(QStringLiteral("role")).toString();
        if (!o.value(QStringLiteral("content")).isString()) {
            return invalid(where + QStringLiteral(" has no text (\"content\")"));
        }
        for (auto [key, out] : {std::pair{"content", &m.content}, {"thinking", &m.thinking}, {"model", &m.stats.model},
                                {"backend", &m.stats.backend}, {"mode", &m.mode},
                                {"finish_reason", &m.stats.finishReason}, {"error", &m.error}}) {
            if (!text(key, out)) {
                return invalid(where + QStringLiteral(": \"%1\" must be text").arg(QLatin1String(key)));
            }
        }
        for (auto [key, out] : {std::pair{"prompt_tokens", &m.stats.promptTokens},
                                {"completion_tokens", &m.stats.completionTokens},
                                {"reused_prompt_tokens", &m.stats.reusedPromptTokens}}) {
            const QJsonValue v = o.value(QLatin1String(key));
            if (!v.isUndefined() && !v.isNull() && (!v.isDouble() || v.toDouble() < 0 || v.toDouble() > 1e9)) {
                return invalid(where + QStringLiteral(": \"%1\" must be a count").arg(QLatin1String(key)));
            }
            *out = v.toInt();
        }
        for (auto [key, out] : {std::pair{"ttft_ms", &m.stats.ttftMs}, {"tokens_per_s", &m.stats.tokensPerSecond}}) {
            const QJsonValue v = o.value(QLatin1String(key));
            if (!v.isUndefined() && !v.isNull() && !v.isDouble()) {
                return invalid(where + QStringLiteral(": \"%1\" must be a number").arg(QLatin1String(key)));
            }
            *out = v.toDouble();
        }
        QString statusName;
        if (!text("status", &statusName)) {
            return invalid(where + QStringLiteral(": \"status\" must be text"));
        }
        const auto status = statusName.isEmpty() ? std::optional(MessageStatus::Complete) : messageStatusFromName(statusName);
        if (!status) {
            return invalid(where + QStringLiteral(": unknown \"status\" \"%1\"").arg(statusName));
        }
        // Nobody is streaming into an imported message.
        m.status = *status == MessageStatus::Streaming ? MessageStatus::Interrupted : *status;
        bool ok1 = false, ok2 = false;
        m.createdAt = timeOf(o.value(QStringLiteral("created_at")), &ok1);
        m.updatedAt = timeOf(o.value(QStringLiteral("updated_at")), &ok2);
        if (!ok1 || !ok2) {
            return invalid(where + QStringLiteral(": \"created_at\"/\"updated_at\" must be ISO 8601 times"));
        }
        seen.insert(row.fileId);
        rows.append(row);
    }
    qint64           leafInFile = rows.isEmpty() ? 0 : rows.back().fileId;
    const QJsonValue leaf       = root.value(QStringLiteral("current_leaf"));
    if (!leaf.isNull() && !leaf.isUndefined()) {
        const auto l = wholeNumber(leaf);
        if (!l || !seen.contains(*l)) {
            return invalid(QStringLiteral("\"current_leaf\" is not one of the messages"));
        }
        leafInFile = *l;
    }
    bool         ok1 = false, ok2 = false;
    const qint64 convCreated = timeOf(conv.value(QStringLiteral("created_at")), &ok1);
    const qint64 convUpdated = timeOf(conv.value(QStringLiteral("updated_at")), &ok2);
    if (!ok1 || !ok2) {
        return invalid(QStringLiteral("the conversation's \"created_at\"/\"updated_at\" must be ISO 8601 times"));
    }

    // 2. One transaction: all of it or nothing.
    Transaction transaction(m_db);
    if (Status s = transaction.begin(); !s) {
        return report(Expected<qint64>(s.error()));
    }
    auto insertConv = m_db.prepare(QStringLiteral(
        "INSERT INTO conversations (title, mode, pinned, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)"));
    if (!insertConv) {
        return report(Expected<qint64>(insertConv.error()));
    }
    insertConv->bind(1, conv.value(QStringLiteral("title")).toString());
    insertConv->bind(2, conv.value(QStringLiteral("mode")).toString(QStringLiteral("")));
    insertConv->bind(3, conv.value(QStringLiteral("pinned")).toBool() ? 1 : 0).bind(4, convCreated).bind(5, convUpdated);
    if (Status s = insertConv->run(); !s) {
        return report(Expected<qint64>(s.error()));
    }
    const qint64 conversationId = m_db.lastInsertId();

    auto insert = m_db.prepare(QStringLiteral(
        "INSERT INTO messages (conversation_id, parent_id, role, content, thinking, model, backend, mode, "
        "prompt_tokens, completion_tokens, reused_prompt_tokens, ttft_ms, tokens_per_s, finish_reason, status, error, "
        "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"));
    if (!insert) {
        return report(Expected<qint64>(insert.error()));
    }
    QHash<qint64, qint64> newIds;
    for (const Row & row : rows) {
        const StoredMessage & m = row.m;
        insert->reset();
        insert->bind(1, conversationId);
        if (row.fileParent != 0) {
            insert->bind(2, newIds.value(row.fileParent));
        } else {
            insert->bindNull(2);
        }
        insert->bind(3, m.role).bind(4, m.content).bind(5, m.thinking).bind(6, m.stats.model).bind(7, m.stats.backend);
        insert->bind(8, m.mode).bind(9, m.stats.promptTokens).bind(10, m.stats.completionTokens);
        insert->bind(11, m.stats.reusedPromptTokens).bind(12, m.stats.ttftMs).bind(13, m.stats.tokensPerSecond);
        if (m.stats.finishReason.isEmpty()) {
            insert->bindNull(14);
        } else {
            insert->bind(14, m.stats.finishReason);
        }
        insert->bind(15, messageStatusName(m.status));
        if (m.error.isEmpty()) {
            insert->bindNull(16);
        } else {
            insert->bind(16, m.error);
        }
        insert->bind(17, m.createdAt).bind(18, m.updatedAt);
        if (Status s = insert->run(); !s) {
            return report(Expected<qint64>(s.error()));
        }
        newIds.insert(row.fileId, m_db.lastInsertId());
    }
    if (leafInFile != 0) {
        if (Status s = setCurrentLeaf(conversationId, newIds.value(leafInFile), false); !s) {
            return report(Expected<qint64>(s.error()));
        }
    }
    if (Status s = transaction.commit(); !s) {
        return report(Expected<qint64>(s.error()));
    }
    emit conversationsChanged();
    return conversationId;
}

} // namespace v4app
