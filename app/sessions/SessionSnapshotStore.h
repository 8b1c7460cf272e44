// SessionSnapshotStore: saved engine session state (the KV cache and last logits of a v4::session)
// per conversation, so reopening a long conversation restores the cache in seconds instead of
// prefilling every token again.
//
// One file per conversation, `<dir>/conversation-<id>.v4snap`, written atomically (QSaveFile):
//   "V4SS", u32 version, i64 conversation id, u32 length + UTF-8 model key, 32-byte SHA-256 of the
//   token prefix, u32 token count, u64 uncompressed size, u8 codec, then the compressed
//   v4::session::save_state() bytes.
// A snapshot is used only when the model key matches (path, size and mtime of the GGUF file: a
// re-downloaded or replaced model is another model) and its tokens are a prefix of the tokens the
// conversation needs now (the caller then prefills only the rest). Anything else is stale: the file
// is deleted and restore() reports why. The engine checks its own fingerprint again in load_state().
//
// Thread contract: none shared; call from the thread that owns the session (the engine worker).
//
// Usage:
//     SessionSnapshotStore snapshots(AppPaths::snapshotsDir());
//     const ModelIdentity model = ModelIdentity::ofFile(modelPath);
//     auto restored = snapshots.restore(conversationId, model, promptTokens, session);
//     session.prefill(promptTokens);            // evaluates only what the snapshot did not hold
//     ... answer ...
//     snapshots.save(conversationId, model, session);
#pragma once

#include "storage/StorageError.h"

#include <QByteArray>
#include <QString>

#include <cstdint>
#include <span>

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

struct RestoreOutcome {
    int     restoredTokens = 0; // 0: nothing restored (no snapshot, or a stale one that was dropped)
    QString staleReason;        // why a snapshot was dropped; empty when none was
};

class SessionSnapshotStore final {
public:
    explicit SessionSnapshotStore(QString directory);

    QString directory() const { return m_dir; }
    QString pathFor(qint64 conversationId) const;

    // SHA-256 of the token ids (little-endian int32).
    static QByteArray prefixHash(std::span<const int32_t> tokens);

    Expected<SnapshotInfo>   save(qint64 conversationId, const ModelIdentity & model, const v4::session & session);
    // Loads the snapshot into `session` when it is valid for `model` and a prefix of `tokens`.
    // Errors only for I/O on a valid snapshot; a damaged or stale one is dropped and reported in
    // RestoreOutcome::staleReason.
    Expected<RestoreOutcome> restore(qint64 conversationId, const ModelIdentity & model,
                                     std::span<const int32_t> tokens, v4::session & session);
    void                     drop(qint64 conversationId);

private:
    QString m_dir;
};

} // namespace v4app::sessions
