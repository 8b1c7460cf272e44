// TrashPurge: empties the trash of conversations deleted more than `age` ago, together with what
// they own outside the conversation database: their document attachments (documents.sqlite3 has
// no foreign key across files) and their saved session state (a file per conversation). Run once
// at start-up. Documents themselves stay in the library (other conversations may use them).
//
// Usage:
//     auto purged = purgeOldTrash(conversations, documents.store(), &snapshots, QDateTime::currentDateTimeUtc());
#pragma once

#include "storage/StorageError.h"

#include <QDateTime>
#include <QList>

namespace v4app {
class ConversationStore;
namespace documents {
class DocumentStore;
}

namespace sessions {
class SessionSnapshotStore;

inline constexpr int kTrashKeepDays = 30;

// Ids of the conversations purged. `documents` and `snapshots` may be null (not available); a
// failed detach is logged and does not stop the purge (an attachment to a gone conversation is
// invisible and harmless, and the next start tries nothing more for it).
Expected<QList<qint64>> purgeOldTrash(ConversationStore & conversations, documents::DocumentStore * documents,
                                      SessionSnapshotStore * snapshots, const QDateTime & now,
                                      int keepDays = kTrashKeepDays);

} // namespace sessions
} // namespace v4app
