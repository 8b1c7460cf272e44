#include "settings/ModelsPage.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QtConcurrent/QtConcurrentRun>
#include <QVBoxLayout>

#include "core/AppPaths.h"
#include "modes/ProfileStore.h"

namespace v4ui {

namespace {
const QStringList kFieldOrder = {QStringLiteral("Architecture"), QStringLiteral("Parameters"), QStringLiteral("Quantization"),
                                 QStringLiteral("Context"),      QStringLiteral("File size"),  QStringLiteral("Chat template")};
} // namespace

ModelsPage::ModelsPage(v4app::ProfileStore & profiles, QWidget * parent) : SettingsPage(parent), m_profiles(profiles) {
    auto * layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(12);
    layout->addWidget(makePageHeader(title(), tr("GGUF model files on this computer. Removing one here keeps the file."), this));

    auto * row = new QHBoxLayout;
    row->setSpacing(16);
    auto * left = new QVBoxLayout;
    m_list = new QListWidget(this);
    m_list->setAccessibleName(tr("Model files"));
    m_list->setMinimumWidth(250);
    m_list->setTextElideMode(Qt::ElideMiddle);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    left->addWidget(m_list, 1);
    auto * buttons = new QHBoxLayout;
    auto * add = new QPushButton(tr("Add file…"), this);
    add->setAccessibleName(tr("Add a model file"));
    auto * scan = new QPushButton(tr("Scan folder…"), this);
    scan->setAccessibleName(tr("Scan a folder for models"));
    buttons->addWidget(add);
    buttons->addWidget(scan);
    left->addLayout(buttons);
    auto * buttons2 = new QHBoxLayout;
    m_makeDefault = new QPushButton(tr("Use as default"), this);
    m_makeDefault->setAccessibleName(tr("Use the selected model as the default"));
    m_remove = new QPushButton(tr("Remove from list"), this);
    m_remove->setAccessibleName(tr("Remove the selected model from the list"));
    buttons2->addWidget(m_makeDefault);
    buttons2->addWidget(m_remove);
    left->addLayout(buttons2);
    row->addLayout(left, 1);

    auto * right = new QVBoxLayout;
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("SectionTitle"));
    m_title->setWordWrap(true);
    right->addWidget(m_title);
    auto * form = new QFormLayout;
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    for (const QString & key : kFieldOrder) {
        auto * value = new QLabel(this);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        value->setWordWrap(true);
        addFormRow(form, tr(qPrintable(key)), value);
        m_fields.insert(key, value);
    }
    right->addLayout(form);
    m_template = new QPlainTextEdit(this);
    m_template->setReadOnly(true);
    m_template->setObjectName(QStringLiteral("Monospace"));
    m_template->setAccessibleName(tr("Chat template text"));
    m_template->setPlaceholderText(tr("No chat template in this file"));
    m_template->setMaximumHeight(170);
    right->addWidget(m_template);
    right->addStretch();
    row->addLayout(right, 1);
    layout->addLayout(row, 1);

    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("Hint"));
    m_message->setWordWrap(true);
    m_message->setAccessibleName(tr("Model manager message"));
    layout->addWidget(m_message);

    connect(add, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Add a model"), v4app::AppPaths::modelsDir(),
                                                          tr("GGUF models (*.gguf)"));
        if (!path.isEmpty()) addFile(path);
    });
    connect(scan, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Scan a folder for models"), v4app::AppPaths::modelsDir());
        if (!dir.isEmpty()) scanFolder(dir);
    });
    connect(m_remove, &QPushButton::clicked, this, &ModelsPage::removeSelected);
    connect(m_makeDefault, &QPushButton::clicked, this, &ModelsPage::makeSelectedDefault);
    connect(m_list, &QListWidget::currentRowChanged, this, &ModelsPage::showSelected);
    connect(&m_watcher, &QFutureWatcher<v4app::ModelMetadata>::finished, this, [this] {
        const v4app::ModelMetadata m = m_watcher.result();
        if (!m_pendingPath.isEmpty() && m_pendingPath != m.path) {
            const QString next = std::exchange(m_pendingPath, QString());
            m_watcher.setFuture(QtConcurrent::run(v4app::readModelMetadata, next));
            return;
        }
        m_pendingPath.clear();
        showMetadata(m);
    });
}

ModelsPage::~ModelsPage() { m_watcher.waitForFinished(); }

void ModelsPage::load() {
    const v4app::LocalEngineSettings local = m_profiles.localSettings();
    m_files = local.modelFiles;
    m_folders = local.modelFolders;
    m_default = local.defaultModel;
    m_message->clear();
    rebuildList(m_profiles.defaultLocalModel());
}

void ModelsPage::rebuildList(const QString & select) {
    const QString builtin = v4app::AppPaths::defaultModelPath();
    const QString effectiveDefault = m_default.isEmpty() ? builtin : m_default;
    QStringList entries;
    if (QFileInfo::exists(builtin)) entries << builtin;
    for (const QString & f : std::as_const(m_files)) {
        if (!entries.contains(f)) entries << f;
    }
    if (!entries.contains(effectiveDefault)) entries << effectiveDefault;

    const QSignalBlocker block(m_list);
    m_list->clear();
    for (const QString & path : entries) {
        QString text = QFileInfo(path).fileName();
        if (path == effectiveDefault) text += tr(" (default)");
        if (!QFileInfo::exists(path)) text += tr(" (missing)");
        auto * item = new QListWidgetItem(text, m_list);
        item->setData(Qt::UserRole, path);
        item->setToolTip(path);
        if (path == effectiveDefault) {
            QFont f = item->font();
            f.setBold(true);
            item->setFont(f);
        }
    }
    int row = static_cast<int>(entries.indexOf(select));
    m_list->setCurrentRow(row < 0 ? 0 : row);
    showSelected();
}

void ModelsPage::showSelected() {
    const QListWidgetItem * item = m_list->currentItem();
    const QString path = item ? item->data(Qt::UserRole).toString() : QString();
    const QString builtin = v4app::AppPaths::defaultModelPath();
    m_remove->setEnabled(item && path != builtin);
    m_makeDefault->setEnabled(item && path != (m_default.isEmpty() ? builtin : m_default) && QFileInfo::exists(path));
    if (!item) {
        m_title->clear();
        for (QLabel * l : std::as_const(m_fields)) l->clear();
        m_template->clear();
        return;
    }
    m_title->setText(QFileInfo(path).fileName());
    for (QLabel * l : std::as_const(m_fields)) l->setText(QStringLiteral("…"));
    m_template->clear();
    if (m_watcher.isRunning()) {
        m_pendingPath = path; // read when the current one ends
        return;
    }
    m_watcher.setFuture(QtConcurrent::run(v4app::readModelMetadata, path));
}

void ModelsPage::showMetadata(const v4app::ModelMetadata & m) {
    const QListWidgetItem * item = m_list->currentItem();
    if (!item || item->data(Qt::UserRole).toString() != m.path) {
        return; // the selection moved on
    }
    if (!m.ok) {
        m_title->setText(QFileInfo(m.path).fileName());
        for (QLabel * l : std::as_const(m_fields)) l->setText(QStringLiteral("—"));
        m_fields.value(QStringLiteral("File size"))->setText(m.fileSize ? v4app::humanFileSize(m.fileSize) : QStringLiteral("—"));
        m_message->setText(tr("Cannot read %1: %2").arg(QFileInfo(m.path).fileName(), m.error));
        emit metadataShown(m.path);
        return;
    }
    m_title->setText(m.name.isEmpty() ? QFileInfo(m.path).fileName() : m.name);
    m_fields.value(QStringLiteral("Architecture"))->setText(m.architecture);
    m_fields.value(QStringLiteral("Parameters"))->setText(v4app::humanParameterCount(m.parameters));
    m_fields.value(QStringLiteral("Quantization"))->setText(m.quantization);
    m_fields.value(QStringLiteral("Context"))->setText(tr("%L1 tokens").arg(m.contextLength));
    m_fields.value(QStringLiteral("File size"))->setText(v4app::humanFileSize(m.fileSize));
    m_fields.value(QStringLiteral("Chat template"))->setText(m.templateNote);
    m_template->setPlainText(m.chatTemplate);
    emit metadataShown(m.path);
}

QLabel * ModelsPage::metadataField(const QString & key) const { return m_fields.value(key); }

bool ModelsPage::addFile(const QString & path) {
    const QFileInfo info(path);
    if (!info.isFile() || !info.isReadable()) {
        m_message->setText(tr("%1 is not a readable file.").arg(path));
        return false;
    }
    if (info.suffix().compare(QLatin1String("gguf"), Qt::CaseInsensitive) != 0) {
        m_message->setText(tr("%1 is not a GGUF model (the name should end in .gguf).").arg(info.fileName()));
        return false;
    }
    const QString clean = info.absoluteFilePath();
    if (!m_files.contains(clean)) {
        m_files << clean;
        emit changed();
    }
    m_message->setText(tr("Added %1.").arg(info.fileName()));
    rebuildList(clean);
    return true;
}

int ModelsPage::scanFolder(const QString & folder) {
    const QStringList found = v4app::scanForModels(folder);
    int added = 0;
    for (const QString & f : found) {
        if (!m_files.contains(f)) {
            m_files << f;
            ++added;
        }
    }
    if (!m_folders.contains(folder)) m_folders << folder;
    m_message->setText(found.isEmpty() ? tr("No GGUF files in %1.").arg(folder)
                                       : tr("Found %1 model(s) in %2, %3 new.").arg(found.size()).arg(folder).arg(added));
    rebuildList(added ? m_files.last() : QString());
    emit changed();
    return added;
}

void ModelsPage::removeSelected() {
    const QListWidgetItem * item = m_list->currentItem();
    if (!item) return;
    const QString path = item->data(Qt::UserRole).toString();
    if (path == v4app::AppPaths::defaultModelPath()) return;
    m_files.removeAll(path);
    if (m_default == path) {
        m_default.clear();
        m_message->setText(tr("Removed %1; the built-in model is the default again.").arg(QFileInfo(path).fileName()));
    } else {
        m_message->setText(tr("Removed %1 from the list (the file was not deleted).").arg(QFileInfo(path).fileName()));
    }
    rebuildList(QString());
    emit changed();
}

void ModelsPage::makeSelectedDefault() {
    const QListWidgetItem * item = m_list->currentItem();
    if (!item) return;
    const QString path = item->data(Qt::UserRole).toString();
    m_default = path == v4app::AppPaths::defaultModelPath() ? QString() : path;
    rebuildList(path);
    emit changed();
}

QStringList ModelsPage::validate() const {
    if (!m_default.isEmpty() && !QFileInfo::exists(m_default)) {
        return {tr("Models: the default model %1 is missing; choose another or remove it.").arg(QFileInfo(m_default).fileName())};
    }
    return {};
}

void ModelsPage::apply() {
    v4app::LocalEngineSettings local = m_profiles.localSettings();
    local.modelFiles = m_files;
    local.modelFolders = m_folders;
    local.defaultModel = m_default;
    if (!(local == m_profiles.localSettings())) {
        m_profiles.setLocalSettings(local);
    }
}

} // namespace v4ui
