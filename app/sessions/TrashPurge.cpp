#include "sessions/TrashPurge.h"

#include "documents/DocumentStore.h"
#include "sessions/SessionSnapshotStore.h"
#include "storage/ConversationStore.h"

#include <spdlog/spdlog.h>

namespace v4app::sessions {

Expected<QList<qint64>> purgeOldTrash(ConversationStore & conversations, documents::DocumentStore * documents,
                                      SessionSnapshotStore * snapshots, const QDateTime & now, int keepDays) {
    const qint64 cutoff = now.addDays(-keepDays).toMSecsSinceEpoch();
    auto         trash  = conversations.listDeleted();
    if (!trash) {
        return trash.error();
    }
    QList<qint64> ids;
    for (const ConversationInfo & c : trash.value()) {
        if (c.deletedAt > 0 && c.deletedAt <= cutoff) {
            ids.append(c.id);
        }
    }
    if (ids.isEmpty()) {
        return ids;
    }
    // The conversations first: if that fails nothing else is touched, and an attachment left
    // behind by a failure after it only costs a row.
    if (auto purged = conversations.purgeDeleted(cutoff); !purged) {
        return purged.error();
    }
    for (qint64 id : ids) {
        if (documents) {
            if (Status s = documents->detachAll(id); !s) {
                spdlog::warn("purge: the documents of conversation {} stay attached: {}", id, s.error().message.toStdString());
            }
        }
        if (snapshots) {
            snapshots->drop(id);
        }
    }
    spdlog::info("purge: {} conversation(s) deleted more than {} days ago removed for good", ids.size(), keepDays);
    return ids;
}

} // namespace v4app::sessions
