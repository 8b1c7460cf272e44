// First-run setup: use the default local model (downloading it on request, with progress and a
// SHA-256 check), pick a GGUF file, or connect a remote OpenAI-compatible endpoint. The choice is
// returned as a SetupChoice; writeSetupChoice() stores it in the profiles.
//
//     SetupWizard wizard(AppPaths::defaultModelPath(), window);
//     if (wizard.exec() == QDialog::Accepted) writeSetupChoice(wizard.choice(), profiles, keys);
#pragma once

#include <QByteArray>
#include <QPointer>
#include <QUrl>
#include <QWizard>

#include "modes/ModeProfile.h"

class QAbstractButton;
class QButtonGroup;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace v4app {
class EndpointKeys;
class ModelDownload;
class ProfileStore;
} // namespace v4app

namespace v4ui {

class EndpointForm;

struct SetupChoice {
    enum class Kind { DefaultModel, GgufFile, RemoteEndpoint };
    Kind                  kind = Kind::DefaultModel;
    QString               modelPath;   // DefaultModel and GgufFile
    QString               endpointUrl; // RemoteEndpoint: endpoint.baseUrl as text
    v4app::RemoteEndpoint endpoint;    // RemoteEndpoint
    QString               apiKey;      // RemoteEndpoint; may be empty (local servers)
};

// Stores the choice: the default local model, or a new endpoint (and its key) that Fast and
// Expert then use; marks setup as done in settings.ini.
void writeSetupChoice(const SetupChoice & choice, v4app::ProfileStore & profiles, v4app::EndpointKeys & keys);

class SetupWizard final : public QWizard {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SetupWizard)

public:
    enum PageId { WelcomePage, ChoicePage, DefaultModelPage, FilePage, RemotePage };

    // `defaultModelPath` is where the default model lives (or will live once downloaded).
    SetupWizard(const QString & defaultModelPath, QWidget * parent = nullptr);
    ~SetupWizard() override;

    SetupChoice choice() const;
    int         nextId() const override;

    // Where "Download" fetches from (default: v4app::defaultModelUrl() and its checksum).
    void setDownloadSource(const QUrl & url, const QByteArray & sha256Hex);

    QAbstractButton * kindButton(SetupChoice::Kind kind) const;
    QPushButton *     downloadButton() const { return m_download; }
    QProgressBar *    downloadProgress() const { return m_progress; }
    QLabel *          downloadStatus() const { return m_downloadStatus; }
    QLineEdit *       modelFileEdit() const { return m_ggufPath; }
    QLabel *          modelFileStatus() const { return m_fileStatus; }
    EndpointForm *    endpointForm() const { return m_endpointForm; }
    bool              defaultModelReady() const;

private:
    QWizardPage * buildChoicePage();
    QWizardPage * buildDefaultModelPage();
    QWizardPage * buildFilePage();
    QWizardPage * buildRemotePage();
    void          refreshDefaultModelState();
    void          startOrCancelDownload();
    void          checkModelFile();

    QString        m_defaultModelPath;
    QUrl           m_downloadUrl;
    QByteArray     m_downloadSha;
    QButtonGroup * m_kind = nullptr;
    QLabel *       m_defaultHint = nullptr;

    QLabel *       m_defaultState = nullptr;
    QPushButton *  m_download = nullptr;
    QProgressBar * m_progress = nullptr;
    QLabel *       m_downloadStatus = nullptr;
    QPointer<v4app::ModelDownload> m_job;

    QLineEdit *    m_ggufPath = nullptr;
    QLabel *       m_fileStatus = nullptr;
    bool           m_fileOk = false;

    EndpointForm * m_endpointForm = nullptr;
};

} // namespace v4ui
