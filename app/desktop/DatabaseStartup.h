// Opening the conversation database at startup. A damaged or foreign file is never overwritten:
// the user is asked whether to move it aside (renamed with a timestamp, kept for recovery) and
// start with an empty database, or to quit. Other failures (a newer app's file, no permission,
// disk trouble) are explained and the app quits, leaving the file alone.
#pragma once

#include <functional>
#include <memory>

#include "storage/Database.h"

class QWidget;

namespace v4app {

enum class DamagedDatabaseChoice { MoveAsideAndStartFresh, Quit };

struct DatabaseStartupUi {
    // Asked when the file is damaged or not a database; the default shows a dialog.
    std::function<DamagedDatabaseChoice(const StorageError &)> askDamaged;
    // Told when the app cannot go on (and after a move aside, where the old file went).
    std::function<void(const QString & title, const QString & text)> tell;
};

DatabaseStartupUi dialogStartupUi(QWidget * parent);

// nullptr: the user chose to quit, or the database cannot be opened (already told).
std::unique_ptr<Database> openConversationDatabase(const QString & path, const DatabaseStartupUi & ui);

} // namespace v4app
