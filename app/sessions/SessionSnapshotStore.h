// SessionSnapshotStore: saved engine session state (the KV cache and last logits of a v4::session)
// per conversation, so reopening a long conversation restores the cache in seconds instead of
// prefilling every token again.
//
// One file per conversation, `<dir>/conversation-<id>.v4snap`, written atomically (QSaveFile):
//   "V4SS", u32 version (2), i64 conversation id, u32 length + UTF-8 model key, u32 token count +
//   the cached token ids (i32 each), u64 uncompressed size, u8 codec, then the compressed
//   v4::session::save_state() bytes.
// A snapshot is used only when the model key matches (path, size and mtime of the GGUF file: a
// re-downloaded or replaced model is another model) and the longest common prefix of its tokens
// and the tokens the conversation needs now is worth it: at least 1/8 of the saved tokens (restoring
// reads the whole state, ~15× faster per token than prefilling it on this machine, so less would
// cost more than it saves). The caller's session::prefill() then keeps that prefix, drops the rest
// of the restored cache (e.g. an answer re-tokenized differently) and evaluates only the new tail.
// Anything else is stale (other model, tokens that differ early, an older format, a damaged file,
// or a state the engine refuses: it checks its own fingerprint in load_state()): the file is
// deleted and restore() says why.
//
// Disk use is bounded by prune(): the oldest snapshots (by file time) go first until at most
// SnapshotBudget::maxFiles files and maxBytes bytes remain.
//
// Thread contract: capture() and restore() on the thread that owns the session (the engine
// worker); save(capture), prune() and drop() from any thread, not concurrently for one conversation.
//
// Usage:
//     SessionSnapshotStore snapshots(AppPaths::snapshotsDir());
//     const ModelIdentity model = ModelIdentity::ofFile(modelPath);
//     auto restored = snapshots.restore(conversationId, model, promptTokens, session);
//     session.prefill(promptTokens);            // evaluates only what the snapshot did not hold
//     ... answer ...
//     snapshots.save(conversationId, model, session);   // or capture() here, save() on another thread
#pragma once

#include "storage/StorageError.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <span>
#include <vector>

namespace v4 {
class session;
}

namespace v4app::sessions {

struct ModelIdentity {
    QString path;
    qint64  size    = 0;
    qint64  mtimeMs = 0;

    static ModelIdentity ofFile(const QString & path);
    QString              key() const; // "path|size|mtime"
};

struct SnapshotInfo {
    qint64  conversationId = 0;
    int     tokenCount     = 0;
    qint64  rawBytes       = 0; // save_state() size
    qint64  storedBytes    = 0; // file size, header included
    QString codec;
};

// The engine state copied out of a session (a memcpy of the cache), ready to be compressed and
// written on another thread while the session goes on.
struct SessionCapture {
    std::vector<uint8_t> state;
    std::vector<int32_t> tokens; // what the cache holds
};

// Default bound on the snapshot folder: a 32k-token Gemma 270M snapshot is ~1.1 GB (f32 cache).
struct SnapshotBudget {
    int    maxFiles = 8;
    qint64 maxBytes = qint64(4) << 30;
};

struct RestoreOutcome {
    int     restoredTokens = 0; // the common prefix now in the cache; 0: nothing restored (none, or stale)
    QString staleReason;        // why a snapshot was dropped; empty when none was
};

class SessionSnapshotStore final {
public:
    explicit SessionSnapshotStore(QString directory);

    QString directory() const { return m_dir; }
    QString pathFor(qint64 conversationId) const;

    static Expected<SessionCapture> capture(const v4::session & session);
    Expected<SnapshotInfo> save(qint64 conversationId, const ModelIdentity & model, const SessionCapture & capture);
    Expected<SnapshotInfo> save(qint64 conversationId, const ModelIdentity & model, const v4::session & session);
    // Loads the snapshot into `session` when it is valid for `model` and shares enough of a prefix with `tokens`.
    // Errors only for I/O on a valid snapshot; a damaged or stale one is dropped and reported in
    // RestoreOutcome::staleReason.
    Expected<RestoreOutcome> restore(qint64 conversationId, const ModelIdentity & model,
                                     std::span<const int32_t> tokens, v4::session & session);
    void                     drop(qint64 conversationId);
    // Deletes the oldest snapshots beyond `budget`, never `keepConversationId`'s; returns the paths removed.
    QStringList              prune(const SnapshotBudget & budget, qint64 keepConversationId = 0) const;

private:
    QString m_dir;
};

} // namespace v4app::sessions
