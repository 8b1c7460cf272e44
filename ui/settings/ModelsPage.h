// Settings > Models: the model manager. Lists GGUF files (the default model, files added by hand,
// files found by scanning folders), shows the metadata of the selected one (read on a worker
// thread through the engine), sets the default local model, and removes entries from the list
// (never deletes files).
#pragma once

#include <QFutureWatcher>
#include <QStringList>

#include "modes/ModelCatalog.h"
#include "settings/SettingsPage.h"

class QListWidget;
class QPlainTextEdit;
class QPushButton;

namespace v4app {
class ProfileStore;
} // namespace v4app

namespace v4ui {

class ModelsPage final : public SettingsPage {
    Q_OBJECT

public:
    explicit ModelsPage(v4app::ProfileStore & profiles, QWidget * parent = nullptr);
    ~ModelsPage() override;

    QString     title() const override { return tr("Models"); }
    void        load() override;
    QStringList validate() const override;
    void        apply() override;

    // The same actions as the buttons, without file dialogs (tests, drag and drop).
    bool addFile(const QString & path);   // false with a message when it is not a readable .gguf
    int  scanFolder(const QString & folder); // number of new files
    void removeSelected();
    void makeSelectedDefault();

    QListWidget *    list() const { return m_list; }
    QLabel *         message() const { return m_message; }
    QString          defaultModel() const { return m_default; }
    QStringList      modelFiles() const { return m_files; }
    QLabel *         metadataField(const QString & key) const;
    QPlainTextEdit * templateView() const { return m_template; }
    bool             isReadingMetadata() const { return m_watcher.isRunning(); }

signals:
    void metadataShown(const QString & path);

private:
    void rebuildList(const QString & select);
    void showSelected();
    void showMetadata(const v4app::ModelMetadata & m);

    v4app::ProfileStore & m_profiles;
    QStringList           m_files;     // working copy of LocalEngineSettings::modelFiles
    QStringList           m_folders;   // working copy of LocalEngineSettings::modelFolders
    QString               m_default;   // working copy of the default model path ("" = built-in)

    QListWidget *    m_list = nullptr;
    QPushButton *    m_remove = nullptr;
    QPushButton *    m_makeDefault = nullptr;
    QLabel *         m_message = nullptr;
    QLabel *         m_title = nullptr;
    QHash<QString, QLabel *> m_fields;
    QPlainTextEdit * m_template = nullptr;
    QFutureWatcher<v4app::ModelMetadata> m_watcher;
    QString          m_pendingPath;   // asked for while a read was running
};

} // namespace v4ui
