#include "settings/BackendsPage.h"

#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

#include "backends/EndpointPresets.h"
#include "modes/EndpointKeys.h"
#include "modes/ProfileStore.h"
#include "settings/EndpointForm.h"
#include "v4/devices.h"

namespace v4ui {

BackendsPage::BackendsPage(v4app::ProfileStore & profiles, v4app::EndpointKeys & keys, QWidget * parent)
    : SettingsPage(parent), m_profiles(profiles), m_keys(keys) {
    auto * layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(14);
    layout->addWidget(makePageHeader(title(), tr("Where answers come from: the engine on this computer, or servers you add."), this));
    layout->addWidget(buildLocalGroup());
    layout->addWidget(buildServersGroup(), 1);
}

QWidget * BackendsPage::buildLocalGroup() {
    auto * group = new QGroupBox(tr("This computer"), this);
    auto * form = new QFormLayout(group);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);

    const int cores = QThread::idealThreadCount();
    m_threads = new QSpinBox(group);
    m_threads->setRange(0, std::max(1, cores * 2));
    m_threads->setSpecialValueText(tr("Automatic (all %1 cores)").arg(cores));
    addFormRow(form, tr("Threads"), m_threads);

    const v4::compute_device_report device = v4::probe_compute_devices();
    m_device = new QComboBox(group);
    m_device->addItem(tr("Automatic"), QStringLiteral("auto"));
    m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
    if (device.backend == "cuda") {
        m_device->addItem(tr("GPU: %1").arg(QString::fromStdString(device.description)), QStringLiteral("cuda"));
    }
    m_device->setToolTip(QString::fromStdString(device.reason));
    addFormRow(form, tr("Device"), m_device);

    m_context = new QSpinBox(group);
    m_context->setRange(512, 262'144);
    m_context->setSingleStep(1024);
    m_context->setSuffix(tr(" tokens"));
    addFormRow(form, tr("Context window"), m_context);
    const QString found = device.backend == "cuda" ? tr("A CUDA GPU was found.") : tr("No CUDA GPU found: the engine runs on the CPU.");
    auto * restartNote = new QLabel(found + QLatin1Char(' ') + tr("Changes here apply from the next start."), group);
    restartNote->setObjectName(QStringLiteral("Hint"));
    restartNote->setWordWrap(true);
    form->addRow(QString(), restartNote);

    for (QSpinBox * s : {m_threads, m_context}) {
        connect(s, &QSpinBox::valueChanged, this, &SettingsPage::changed);
    }
    connect(m_device, &QComboBox::currentIndexChanged, this, &SettingsPage::changed);
    return group;
}

QWidget * BackendsPage::buildServersGroup() {
    auto * group = new QGroupBox(tr("Servers (OpenAI-compatible)"), this);
    auto * row = new QHBoxLayout(group);
    row->setSpacing(14);

    auto * left = new QVBoxLayout;
    m_list = new QListWidget(group);
    m_list->setAccessibleName(tr("Servers"));
    m_list->setMinimumWidth(170);
    m_list->setMaximumWidth(210);
    left->addWidget(m_list, 1);
    auto * buttons = new QHBoxLayout;
    auto * add = new QPushButton(tr("Add"), group);
    add->setAccessibleName(tr("Add server"));
    m_remove = new QPushButton(tr("Remove"), group);
    m_remove->setAccessibleName(tr("Remove server"));
    buttons->addWidget(add);
    buttons->addWidget(m_remove);
    left->addLayout(buttons);
    row->addLayout(left);

    auto * right = new QVBoxLayout;
    m_form = new EndpointForm(group);
    m_form->setKeyStorageNote(tr("API keys: %1").arg(m_keys.description()));
    m_emptyHint = new QLabel(tr("No servers yet. Add one to use DeepSeek, vLLM, SGLang, a llama.cpp server or OpenAI "
                                "for any mode."),
                             group);
    m_emptyHint->setObjectName(QStringLiteral("Hint"));
    m_emptyHint->setWordWrap(true);
    right->addWidget(m_emptyHint);
    right->addWidget(m_form);
    right->addStretch();
    row->addLayout(right, 1);

    connect(add, &QPushButton::clicked, this, &BackendsPage::addEndpoint);
    connect(m_remove, &QPushButton::clicked, this, &BackendsPage::removeSelectedEndpoint);
    connect(m_list, &QListWidget::currentRowChanged, this, &BackendsPage::show);
    connect(m_form, &EndpointForm::edited, this, [this] {
        keepFormEdits();
        emit changed();
    });
    return group;
}

void BackendsPage::load() {
    const v4app::LocalEngineSettings local = m_profiles.localSettings();
    m_threads->setValue(local.threads);
    m_device->setCurrentIndex(std::max(0, m_device->findData(local.device)));
    m_context->setValue(local.contextSize);
    m_endpoints = m_profiles.endpoints();
    m_newKeys.clear();
    m_removedIds.clear();
    m_shown = -1;
    m_list->clear();
    for (const v4app::RemoteEndpoint & e : m_endpoints) {
        m_list->addItem(e.name);
    }
    m_list->setCurrentRow(m_endpoints.isEmpty() ? -1 : 0);
    show(m_list->currentRow());
}

void BackendsPage::show(int row) {
    keepFormEdits();
    m_shown = row;
    const bool any = row >= 0 && row < m_endpoints.size();
    m_form->setVisible(any);
    m_emptyHint->setVisible(m_endpoints.isEmpty());
    m_remove->setEnabled(any);
    if (any) {
        const v4app::RemoteEndpoint & e = m_endpoints[row];
        m_form->setEndpoint(e, m_newKeys.contains(e.id) ? m_newKeys.value(e.id) : m_keys.load(e.id));
    }
}

void BackendsPage::keepFormEdits() {
    if (m_shown < 0 || m_shown >= m_endpoints.size()) {
        return;
    }
    m_endpoints[m_shown] = m_form->endpoint();
    if (!m_form->typedKey().isEmpty()) {
        m_newKeys.insert(m_endpoints[m_shown].id, m_form->typedKey());
    }
    refreshNames();
}

void BackendsPage::refreshNames() {
    for (int i = 0; i < m_endpoints.size() && i < m_list->count(); ++i) {
        const QString name = m_endpoints[i].name.isEmpty() ? tr("(unnamed)") : m_endpoints[i].name;
        if (m_list->item(i)->text() != name) {
            m_list->item(i)->setText(name);
        }
    }
    emit endpointsEdited();
}

void BackendsPage::addEndpoint() {
    keepFormEdits();
    const auto preset = v4app::endpointPresetInfo(v4app::EndpointPreset::DeepSeek);
    v4app::RemoteEndpoint e;
    e.id = v4app::ProfileStore::newEndpointId();
    e.name = preset.displayName;
    e.preset = preset.id;
    e.baseUrl = preset.defaultBaseUrl;
    e.model = preset.defaultModel;
    m_endpoints.push_back(e);
    m_list->addItem(e.name);
    m_shown = -1; // the new row has no edits to keep yet
    m_list->setCurrentRow(static_cast<int>(m_endpoints.size()) - 1);
    emit endpointsEdited();
    emit changed();
}

void BackendsPage::removeSelectedEndpoint() {
    const int row = m_list->currentRow();
    if (row < 0 || row >= m_endpoints.size()) {
        return;
    }
    m_removedIds.insert(m_endpoints[row].id);
    m_newKeys.remove(m_endpoints[row].id);
    m_endpoints.remove(row);
    m_shown = -1;
    delete m_list->takeItem(row);
    show(m_list->currentRow());
    emit endpointsEdited();
    emit changed();
}

QVector<v4app::RemoteEndpoint> BackendsPage::endpoints() const {
    QVector<v4app::RemoteEndpoint> list = m_endpoints;
    if (m_shown >= 0 && m_shown < list.size()) {
        list[m_shown] = m_form->endpoint();
    }
    return list;
}

QStringList BackendsPage::validate() const {
    QStringList problems;
    for (const v4app::RemoteEndpoint & e : endpoints()) {
        for (const QString & p : v4app::validateEndpoint(e)) {
            problems << tr("Server \"%1\": %2").arg(e.name.isEmpty() ? tr("(unnamed)") : e.name, p);
        }
    }
    return problems;
}

void BackendsPage::apply() {
    keepFormEdits();
    v4app::LocalEngineSettings local = m_profiles.localSettings();
    local.threads = m_threads->value();
    local.device = m_device->currentData().toString();
    local.contextSize = m_context->value();
    if (!(local == m_profiles.localSettings())) {
        m_profiles.setLocalSettings(local);
    }
    for (const QString & id : std::as_const(m_removedIds)) {
        QString ignored;
        m_keys.remove(id, &ignored);
    }
    for (auto it = m_newKeys.cbegin(); it != m_newKeys.cend(); ++it) {
        QString error;
        if (!m_keys.store(it.key(), it.value(), &error)) {
            m_form->testResult()->setText(tr("The API key could not be saved: %1").arg(error));
        }
    }
    m_newKeys.clear();
    m_removedIds.clear();
    if (m_endpoints != m_profiles.endpoints()) {
        m_profiles.setEndpoints(m_endpoints);
    }
    show(m_list->currentRow()); // the stored key now backs Test connection
}

} // namespace v4ui
