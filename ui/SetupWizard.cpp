#include "SetupWizard.h"

#include <QButtonGroup>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace v4ui {

namespace {

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

SetupWizard::SetupWizard(const QString & defaultModelPath, QWidget * parent)
    : QWizard(parent), m_defaultModelPath(defaultModelPath) {
    setWindowTitle(tr("Set up V4 Chat"));
    setWizardStyle(QWizard::ModernStyle);
    setMinimumSize(640, 460);
    addPage(makeWelcomePage());

    auto * page = new QWizardPage;
    page->setTitle(tr("Choose a model"));
    page->setSubTitle(tr("You can change this later in Settings."));
    auto * layout = new QVBoxLayout(page);
    m_kind = new QButtonGroup(page);

    const bool haveDefault = QFileInfo::exists(defaultModelPath);
    auto * useDefault = new QRadioButton(tr("Use the built-in small model (Gemma 3 270M, 242 MB)"), page);
    auto * defaultHint = new QLabel(haveDefault ? tr("Ready: %1").arg(defaultModelPath)
                                                : tr("Not downloaded yet. Run tools/run, or choose a file below."),
                                    page);
    defaultHint->setObjectName(QStringLiteral("Hint"));
    defaultHint->setWordWrap(true);

    auto * pickFile = new QRadioButton(tr("Use a GGUF model file on this computer"), page);
    m_ggufPath = new QLineEdit(page);
    m_ggufPath->setPlaceholderText(tr("/path/to/model.gguf"));
    m_ggufPath->setAccessibleName(tr("Model file"));
    auto * browse = new QPushButton(tr("Browse…"), page);
    connect(browse, &QPushButton::clicked, this, [this, pickFile] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Choose a model"), QString(), tr("GGUF models (*.gguf)"));
        if (!path.isEmpty()) {
            m_ggufPath->setText(path);
            pickFile->setChecked(true);
        }
    });
    auto * fileRow = new QHBoxLayout;
    fileRow->addWidget(m_ggufPath, 1);
    fileRow->addWidget(browse);

    auto * remote = new QRadioButton(tr("Connect to a server (DeepSeek API, vLLM, SGLang, llama.cpp server)"), page);
    m_endpoint = new QLineEdit(page);
    m_endpoint->setPlaceholderText(QStringLiteral("https://api.deepseek.com/v1"));
    m_endpoint->setAccessibleName(tr("Server address"));

    m_kind->addButton(useDefault, static_cast<int>(SetupChoice::Kind::DefaultModel));
    m_kind->addButton(pickFile, static_cast<int>(SetupChoice::Kind::GgufFile));
    m_kind->addButton(remote, static_cast<int>(SetupChoice::Kind::RemoteEndpoint));
    (haveDefault ? useDefault : pickFile)->setChecked(true);

    layout->addWidget(useDefault);
    layout->addWidget(defaultHint);
    layout->addSpacing(10);
    layout->addWidget(pickFile);
    layout->addLayout(fileRow);
    layout->addSpacing(10);
    layout->addWidget(remote);
    layout->addWidget(m_endpoint);
    layout->addStretch();
    addPage(page);
}

SetupChoice SetupWizard::choice() const {
    SetupChoice c;
    c.kind = static_cast<SetupChoice::Kind>(m_kind->checkedId());
    c.modelPath = c.kind == SetupChoice::Kind::DefaultModel ? m_defaultModelPath : m_ggufPath->text().trimmed();
    c.endpointUrl = m_endpoint->text().trimmed();
    return c;
}

} // namespace v4ui
