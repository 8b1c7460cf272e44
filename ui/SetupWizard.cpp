#include "SetupWizard.h"

#include <QButtonGroup>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>
#include <QVBoxLayout>

#include <functional>

#include "backends/EndpointPresets.h"
#include "modes/EndpointKeys.h"
#include "modes/ModelCatalog.h"
#include "modes/ModelDownload.h"
#include "modes/ProfileStore.h"
#include "settings/EndpointForm.h"

namespace v4ui {

namespace {

// A page whose Next/Finish button follows a check.
class CheckedPage final : public QWizardPage {
public:
    explicit CheckedPage(std::function<bool()> check) : m_check(std::move(check)) {}
    bool isComplete() const override { return m_check(); }
    void recheck() { emit completeChanged(); }

private:
    std::function<bool()> m_check;
};

QLabel * hint(const QString & text, QWidget * parent) {
    auto * label = new QLabel(text, parent);
    label->setObjectName(QStringLiteral("Hint"));
    label->setWordWrap(true);
    return label;
}

QWizardPage * makeWelcomePage() {
    auto * page = new QWizardPage;
    page->setTitle(QObject::tr("Welcome to V4 Chat"));
    page->setSubTitle(QObject::tr("A private chat app with its own inference engine."));
    auto * layout = new QVBoxLayout(page);
    auto * text = new QLabel(QObject::tr(
        "<p>V4 Chat runs language models on this computer, or talks to a server you choose.</p>"
        "<p>Each chat has a <b>mode</b>: <b>Fast</b> for quick answers, <b>Expert</b> for careful reasoning "
        "(you can read its thinking), and <b>Auto</b>, which picks one for every message.</p>"
        "<p>Your conversations stay on this computer.</p>"));
    text->setWordWrap(true);
    layout->addWidget(text);
    layout->addStretch();
    return page;
}

} // namespace

void writeSetupChoice(const SetupChoice & choice, v4app::ProfileStore & profiles, v4app::EndpointKeys & keys) {
    using Kind = SetupChoice::Kind;
    v4app::LocalEngineSettings local = profiles.localSettings();
    if (choice.kind == Kind::GgufFile) {
        local.defaultModel = choice.modelPath;
        if (!local.modelFiles.contains(choice.modelPath)) local.modelFiles << choice.modelPath;
        profiles.setLocalSettings(local);
    } else if (choice.kind == Kind::DefaultModel) {
        local.defaultModel.clear();
        profiles.setLocalSettings(local);
    } else {
        QVector<v4app::RemoteEndpoint> endpoints = profiles.endpoints();
        endpoints.push_back(choice.endpoint);
        profiles.setEndpoints(endpoints);
        if (!choice.apiKey.isEmpty()) {
            QString error;
            keys.store(choice.endpoint.id, choice.apiKey, &error);
        }
        // Both modes answer from the server's model; Expert keeps thinking on (DeepSeek's preset
        // then asks for its reasoner).
        for (v4app::ChatMode mode : {v4app::ChatMode::Fast, v4app::ChatMode::Expert}) {
            v4app::ModeProfile p = profiles.profile(mode);
            p.backend = choice.endpoint.id;
            p.model.clear();
            profiles.setProfile(mode, p);
        }
    }
    QSettings s(profiles.settingsPath(), QSettings::IniFormat);
    s.setValue(QStringLiteral("setup/completed"), true);
    s.setValue(QStringLiteral("setup/kind"), static_cast<int>(choice.kind));
    s.setValue(QStringLiteral("setup/modelPath"), choice.kind == Kind::RemoteEndpoint ? QString() : choice.modelPath);
    s.setValue(QStringLiteral("setup/endpointUrl"), choice.endpointUrl);
}

SetupWizard::SetupWizard(const QString & defaultModelPath, QWidget * parent)
    : QWizard(parent), m_defaultModelPath(defaultModelPath), m_downloadUrl(v4app::defaultModelUrl()),
      m_downloadSha(v4app::defaultModelSha256()) {
    setWindowTitle(tr("Set up V4 Chat"));
    setObjectName(QStringLiteral("SetupWizard"));
    setWizardStyle(QWizard::ModernStyle);
    setOption(QWizard::NoBackButtonOnStartPage);
    setMinimumSize(680, 500);
    setPage(WelcomePage, makeWelcomePage());
    setPage(ChoicePage, buildChoicePage());
    setPage(DefaultModelPage, buildDefaultModelPage());
    setPage(FilePage, buildFilePage());
    setPage(RemotePage, buildRemotePage());
    setStartId(WelcomePage);
    refreshDefaultModelState();
    setPixmap(QWizard::LogoPixmap, QIcon(QStringLiteral(":/icons/io.github.v4chat.V4Chat.svg")).pixmap(56, 56));
    // Bigger page titles than QWizard's default (it offers no style hook for them).
    setTitleFormat(Qt::RichText);
    for (int id : pageIds()) {
        QWizardPage * p = page(id);
        p->setTitle(QStringLiteral("<span style=\"font-size:19px; font-weight:600\">%1</span>").arg(p->title().toHtmlEscaped()));
    }
}

SetupWizard::~SetupWizard() = default; // a running download is cancelled with its object (a child)

QWizardPage * SetupWizard::buildChoicePage() {
    auto * page = new QWizardPage;
    page->setTitle(tr("Choose a model"));
    page->setSubTitle(tr("You can change this later in Settings, and use different models for each mode."));
    auto * layout = new QVBoxLayout(page);
    layout->setSpacing(6);
    m_kind = new QButtonGroup(page);

    auto * useDefault = new QRadioButton(tr("Use the built-in small model (Gemma 3 270M, 242 MB)"), page);
    m_defaultHint = hint(QString(), page);
    auto * pickFile = new QRadioButton(tr("Use a GGUF model file on this computer"), page);
    auto * remote = new QRadioButton(tr("Connect to a server (DeepSeek API, vLLM, SGLang, llama.cpp server, OpenAI)"), page);
    const std::pair<QRadioButton *, QString> choices[] = {
        {useDefault, tr("Runs on this computer, offline. Good for quick answers.")},
        {pickFile, tr("Any Llama, Qwen 2/3 or Gemma 3 model in GGUF format, e.g. a DeepSeek-R1 distill for Expert mode.")},
        {remote, tr("Large models such as DeepSeek-V4 answered by a server; needs its address and usually an API key.")},
    };
    for (int i = 0; i < 3; ++i) {
        auto * button = choices[i].first;
        button->setAccessibleName(button->text());
        m_kind->addButton(button, i);
        layout->addWidget(button);
        if (i == 0) layout->addWidget(m_defaultHint);
        auto * explanation = hint(choices[i].second, page);
        explanation->setIndent(26);
        layout->addWidget(explanation);
        layout->addSpacing(10);
    }
    m_defaultHint->setIndent(26);
    useDefault->setChecked(true);
    layout->addStretch();
    refreshDefaultModelState();
    return page;
}

QWizardPage * SetupWizard::buildDefaultModelPage() {
    auto * page = new CheckedPage([this] { return defaultModelReady(); });
    page->setTitle(tr("The built-in model"));
    page->setSubTitle(tr("Gemma 3 270M, quantized to 4 bits: small and quick, fine for short everyday answers."));
    auto * layout = new QVBoxLayout(page);
    layout->setSpacing(10);
    m_defaultState = new QLabel(page);
    m_defaultState->setWordWrap(true);
    m_defaultState->setAccessibleName(tr("Model status"));
    layout->addWidget(m_defaultState);
    auto * row = new QHBoxLayout;
    m_download = new QPushButton(tr("Download (242 MB)"), page);
    m_download->setObjectName(QStringLiteral("PrimaryButton"));
    m_download->setAccessibleName(tr("Download the built-in model"));
    m_progress = new QProgressBar(page);
    m_progress->setAccessibleName(tr("Download progress"));
    m_progress->setTextVisible(false);
    m_progress->setRange(0, 1000);
    m_progress->hide();
    row->addWidget(m_download);
    row->addWidget(m_progress, 1);
    row->addStretch(); // keeps the button compact while no progress shows
    layout->addLayout(row);
    m_downloadStatus = hint(QString(), page);
    m_downloadStatus->setAccessibleName(tr("Download status"));
    layout->addWidget(m_downloadStatus);
    layout->addWidget(hint(tr("Nothing is downloaded unless you press Download. The file is checked against its "
                              "published SHA-256 before it is used."),
                           page));
    layout->addStretch();
    connect(m_download, &QPushButton::clicked, this, &SetupWizard::startOrCancelDownload);
    return page;
}

QWizardPage * SetupWizard::buildFilePage() {
    auto * page = new CheckedPage([this] { return m_fileOk; });
    page->setTitle(tr("A model file"));
    page->setSubTitle(tr("Choose a .gguf file. V4 Chat reads it in place; nothing is copied."));
    auto * layout = new QVBoxLayout(page);
    layout->setSpacing(10);
    m_ggufPath = new QLineEdit(page);
    m_ggufPath->setPlaceholderText(tr("/path/to/model.gguf"));
    m_ggufPath->setAccessibleName(tr("Model file"));
    auto * browse = new QPushButton(tr("Browse…"), page);
    browse->setAccessibleName(tr("Browse for a model file"));
    auto * row = new QHBoxLayout;
    row->addWidget(m_ggufPath, 1);
    row->addWidget(browse);
    layout->addLayout(row);
    m_fileStatus = hint(QString(), page);
    m_fileStatus->setAccessibleName(tr("Model file check"));
    layout->addWidget(m_fileStatus);
    layout->addStretch();
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Choose a model"), QString(), tr("GGUF models (*.gguf)"));
        if (!path.isEmpty()) {
            m_ggufPath->setText(path);
            checkModelFile();
        }
    });
    connect(m_ggufPath, &QLineEdit::editingFinished, this, &SetupWizard::checkModelFile);
    connect(m_ggufPath, &QLineEdit::textEdited, this, [this, page] {
        m_fileOk = false;
        page->recheck();
    });
    return page;
}

QWizardPage * SetupWizard::buildRemotePage() {
    auto * page = new CheckedPage([this] { return v4app::validateEndpoint(m_endpointForm->endpoint()).isEmpty(); });
    page->setTitle(tr("A server"));
    page->setSubTitle(tr("Any OpenAI-compatible server. Test the connection to list its models."));
    auto * layout = new QVBoxLayout(page);
    m_endpointForm = new EndpointForm(page);
    const v4app::EndpointPresetInfo preset = v4app::endpointPresetInfo(v4app::EndpointPreset::DeepSeek);
    v4app::RemoteEndpoint e;
    e.id = v4app::ProfileStore::newEndpointId();
    e.name = preset.displayName;
    e.preset = preset.id;
    e.baseUrl = preset.defaultBaseUrl;
    e.model = preset.defaultModel;
    m_endpointForm->setEndpoint(e, QString());
    m_endpointForm->setKeyStorageNote(tr("The key goes to the system keychain (where there is none, to a file only you can "
                                         "read), never to the settings file."));
    layout->addWidget(m_endpointForm);
    layout->addStretch();
    connect(m_endpointForm, &EndpointForm::edited, page, [page] { page->recheck(); });
    return page;
}

int SetupWizard::nextId() const {
    switch (currentId()) {
    case WelcomePage: return ChoicePage;
    case ChoicePage:
        switch (static_cast<SetupChoice::Kind>(m_kind->checkedId())) {
        case SetupChoice::Kind::DefaultModel: return DefaultModelPage;
        case SetupChoice::Kind::GgufFile: return FilePage;
        case SetupChoice::Kind::RemoteEndpoint: return RemotePage;
        }
        return -1;
    default: return -1;
    }
}

void SetupWizard::setDownloadSource(const QUrl & url, const QByteArray & sha256Hex) {
    m_downloadUrl = url;
    m_downloadSha = sha256Hex;
}

QAbstractButton * SetupWizard::kindButton(SetupChoice::Kind kind) const { return m_kind->button(static_cast<int>(kind)); }

bool SetupWizard::defaultModelReady() const { return QFileInfo::exists(m_defaultModelPath) && !m_job; }

void SetupWizard::refreshDefaultModelState() {
    const bool present = QFileInfo::exists(m_defaultModelPath);
    m_defaultHint->setText(present ? tr("Ready on this computer.") : tr("Not downloaded yet: the next page offers the download."));
    if (m_defaultState) {
        m_defaultState->setText(present ? tr("<b>Ready.</b> The model is at %1").arg(m_defaultModelPath.toHtmlEscaped())
                                        : tr("<b>Not on this computer yet.</b> It will be saved to %1")
                                              .arg(m_defaultModelPath.toHtmlEscaped()));
        m_download->setVisible(!present || m_job);
    }
    if (auto * p = dynamic_cast<CheckedPage *>(page(DefaultModelPage))) p->recheck();
}

void SetupWizard::startOrCancelDownload() {
    if (m_job) {
        m_job->cancel();
        return;
    }
    m_job = new v4app::ModelDownload(m_downloadUrl, m_defaultModelPath, m_downloadSha, this);
    m_progress->setValue(0);
    m_progress->show();
    m_download->setText(tr("Cancel download"));
    m_downloadStatus->setText(tr("Connecting to %1…").arg(m_downloadUrl.host()));
    connect(m_job, &v4app::ModelDownload::progress, this, [this](qint64 received, qint64 total) {
        m_progress->setRange(0, total > 0 ? 1000 : 0);
        if (total > 0) m_progress->setValue(static_cast<int>(received * 1000 / total));
        m_downloadStatus->setText(total > 0 ? tr("%1 of %2").arg(v4app::humanFileSize(received), v4app::humanFileSize(total))
                                            : v4app::humanFileSize(received));
    });
    auto done = [this](const QString & message) {
        m_job->deleteLater();
        m_job = nullptr;
        m_progress->hide();
        m_download->setText(tr("Download again"));
        m_downloadStatus->setText(message);
        refreshDefaultModelState();
    };
    connect(m_job, &v4app::ModelDownload::finished, this, [done] { done(tr("Downloaded and verified (SHA-256 matches).")); });
    connect(m_job, &v4app::ModelDownload::failed, this, [done](const QString & message) { done(message); });
    m_job->start();
    refreshDefaultModelState();
}

void SetupWizard::checkModelFile() {
    const QString path = m_ggufPath->text().trimmed();
    auto * page = static_cast<CheckedPage *>(this->page(FilePage));
    m_fileOk = false;
    page->recheck();
    if (path.isEmpty()) {
        m_fileStatus->clear();
        return;
    }
    m_fileStatus->setText(tr("Reading %1…").arg(QFileInfo(path).fileName()));
    auto * watcher = new QFutureWatcher<v4app::ModelMetadata>(this);
    connect(watcher, &QFutureWatcher<v4app::ModelMetadata>::finished, this, [this, watcher, page, path] {
        const v4app::ModelMetadata m = watcher->result();
        watcher->deleteLater();
        if (m_ggufPath->text().trimmed() != path) return; // changed meanwhile
        m_fileOk = m.ok;
        m_fileStatus->setText(m.ok ? tr("✓ %1: %2, %3 parameters, %4, context %L5").arg(m.name, m.architecture,
                                                                                        v4app::humanParameterCount(m.parameters),
                                                                                        m.quantization)
                                         .arg(m.contextLength)
                                   : tr("This file cannot be used: %1").arg(m.error));
        page->recheck();
    });
    watcher->setFuture(QtConcurrent::run(v4app::readModelMetadata, path));
}

SetupChoice SetupWizard::choice() const {
    SetupChoice c;
    c.kind = static_cast<SetupChoice::Kind>(m_kind->checkedId());
    c.modelPath = c.kind == SetupChoice::Kind::DefaultModel ? m_defaultModelPath : m_ggufPath->text().trimmed();
    c.endpoint = m_endpointForm->endpoint();
    c.endpointUrl = c.endpoint.baseUrl.toString();
    c.apiKey = m_endpointForm->typedKey();
    return c;
}

} // namespace v4ui
