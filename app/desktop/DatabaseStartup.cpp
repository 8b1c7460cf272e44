#include "DatabaseStartup.h"

#include <QMessageBox>
#include <QPushButton>

namespace v4app {

DatabaseStartupUi dialogStartupUi(QWidget * parent) {
    DatabaseStartupUi ui;
    ui.askDamaged = [parent](const StorageError & error) {
        QMessageBox box(QMessageBox::Warning, QObject::tr("Conversation database damaged"),
                        QObject::tr("V4 Chat cannot read its conversation database."), QMessageBox::NoButton, parent);
        box.setInformativeText(QObject::tr("%1\n\nYou can move the file aside (it is renamed, not deleted, so it can "
                                           "still be recovered) and start with an empty history, or quit and "
                                           "look at it first.").arg(error.message));
        QPushButton * fresh = box.addButton(QObject::tr("Move aside and start fresh"), QMessageBox::AcceptRole);
        box.addButton(QObject::tr("Quit"), QMessageBox::RejectRole);
        box.exec();
        return box.clickedButton() == fresh ? DamagedDatabaseChoice::MoveAsideAndStartFresh : DamagedDatabaseChoice::Quit;
    };
    ui.tell = [parent](const QString & title, const QString & text) {
        QMessageBox::information(parent, title, text);
    };
    return ui;
}

std::unique_ptr<Database> openConversationDatabase(const QString & path, const DatabaseStartupUi & ui) {
    auto db = Database::open(path);
    if (db) {
        return std::move(db.value());
    }
    const StorageError error = db.error();
    const bool damaged = error.kind == StorageError::Kind::Corrupt || error.kind == StorageError::Kind::NotADatabase;
    if (!damaged) {
        ui.tell(QObject::tr("Cannot open the conversation database"), error.message);
        return nullptr;
    }
    if (ui.askDamaged(error) != DamagedDatabaseChoice::MoveAsideAndStartFresh) {
        return nullptr;
    }
    auto aside = Database::moveAside(path);
    if (!aside) {
        ui.tell(QObject::tr("Cannot move the database aside"), aside.error().message);
        return nullptr;
    }
    auto fresh = Database::open(path);
    if (!fresh) {
        ui.tell(QObject::tr("Cannot create a new conversation database"), fresh.error().message);
        return nullptr;
    }
    ui.tell(QObject::tr("Started with an empty history"),
            QObject::tr("The damaged database was kept as:\n%1").arg(aside.value()));
    return std::move(fresh.value());
}

} // namespace v4app
