#include "settings/EndpointForm.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

#include "backends/EndpointPresets.h"
#include "backends/RemoteBackend.h"
#include "settings/SettingsPage.h"

namespace v4ui {

EndpointForm::EndpointForm(QWidget * parent) : QWidget(parent) {
    auto * form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);

    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(tr("e.g. DeepSeek, Lab server"));
    addFormRow(form, tr("Name"), m_name);

    m_preset = new QComboBox(this);
    for (const v4app::EndpointPresetInfo & p : v4app::endpointPresets()) {
        m_preset->addItem(p.displayName, p.id);
    }
    addFormRow(form, tr("Type"), m_preset);

    m_url = new QLineEdit(this);
    m_url->setPlaceholderText(QStringLiteral("https://api.deepseek.com"));
    addFormRow(form, tr("Address"), m_url);

    m_model = new QComboBox(this);
    m_model->setEditable(true);
    m_model->setInsertPolicy(QComboBox::NoInsert);
    addFormRow(form, tr("Model"), m_model);

    m_key = new QLineEdit(this);
    m_key->setEchoMode(QLineEdit::Password);
    addFormRow(form, tr("API key"), m_key);
    m_keyNote = new QLabel(this);
    m_keyNote->setObjectName(QStringLiteral("Hint"));
    m_keyNote->setWordWrap(true);
    form->addRow(QString(), m_keyNote);

    m_images = new QCheckBox(tr("The model accepts images"), this);
    m_images->setAccessibleName(tr("The model accepts images"));
    form->addRow(QString(), m_images);

    m_test = new QPushButton(tr("Test connection"), this);
    m_test->setAccessibleName(tr("Test connection"));
    m_result = new QLabel(this);
    m_result->setObjectName(QStringLiteral("Hint"));
    m_result->setWordWrap(true);
    m_result->setAccessibleName(tr("Connection test result"));
    auto * testRow = new QHBoxLayout;
    testRow->addWidget(m_test);
    testRow->addWidget(m_result, 1);
    form->addRow(QString(), testRow);

    connect(m_preset, &QComboBox::currentIndexChanged, this, &EndpointForm::onPresetChosen);
    connect(m_test, &QPushButton::clicked, this, &EndpointForm::testConnection);
    for (QLineEdit * e : {m_name, m_url, m_key}) {
        connect(e, &QLineEdit::textEdited, this, &EndpointForm::edited);
    }
    connect(m_model, &QComboBox::editTextChanged, this, [this] {
        if (!m_filling) emit edited();
    });
    connect(m_images, &QCheckBox::toggled, this, [this] {
        if (!m_filling) emit edited();
    });
}

void EndpointForm::setEndpoint(const v4app::RemoteEndpoint & e, const QString & storedKey) {
    m_filling = true;
    m_id = e.id;
    m_storedKey = storedKey;
    m_name->setText(e.name);
    m_preset->setCurrentIndex(std::max(0, m_preset->findData(e.preset)));
    m_url->setText(e.baseUrl.toString());
    m_model->clear();
    m_model->setEditText(e.model);
    m_key->clear();
    m_key->setPlaceholderText(storedKey.isEmpty() ? tr("Not set") : tr("Saved (type to replace)"));
    m_images->setChecked(e.acceptsImages);
    m_result->clear();
    m_filling = false;
}

v4app::RemoteEndpoint EndpointForm::endpoint() const {
    v4app::RemoteEndpoint e;
    e.id = m_id;
    e.name = m_name->text().trimmed();
    e.preset = m_preset->currentData().toString();
    e.baseUrl = QUrl::fromUserInput(m_url->text().trimmed());
    if (m_url->text().trimmed().isEmpty()) {
        e.baseUrl = QUrl();
    }
    e.model = m_model->currentText().trimmed();
    e.acceptsImages = m_images->isChecked();
    return e;
}

QString EndpointForm::typedKey() const { return m_key->text().trimmed(); }

void EndpointForm::setKeyStorageNote(const QString & note) { m_keyNote->setText(note); }

void EndpointForm::onPresetChosen() {
    if (m_filling) {
        return;
    }
    // A new preset fills the address and model unless the user typed their own.
    const auto info = v4app::endpointPresetInfo(v4app::endpointPresetFromId(m_preset->currentData().toString()));
    bool presetUrl = false;  // the address is another preset's default, not the user's own
    bool presetName = false;
    for (const v4app::EndpointPresetInfo & p : v4app::endpointPresets()) {
        presetUrl = presetUrl || (!m_url->text().isEmpty() && p.defaultBaseUrl.toString() == m_url->text());
        presetName = presetName || p.displayName == m_name->text();
    }
    if (m_url->text().isEmpty() || presetUrl) {
        m_url->setText(info.defaultBaseUrl.toString());
    }
    if (m_model->currentText().isEmpty() || presetUrl) {
        m_model->setEditText(info.defaultModel);
    }
    if (m_name->text().isEmpty() || presetName) {
        m_name->setText(info.displayName);
    }
    emit edited();
}

void EndpointForm::testConnection() {
    const v4app::RemoteEndpoint e = endpoint();
    const QStringList problems = v4app::validateEndpoint(e);
    if (!e.baseUrl.isValid() || e.baseUrl.host().isEmpty()) {
        m_result->setText(problems.value(0, tr("Enter the server's address first.")));
        emit testFinished(false);
        return;
    }
    if (m_probe) {
        m_probe->deleteLater();
    }
    v4app::RemoteSettings s;
    s.baseUrl = e.baseUrl;
    s.apiKey = typedKey().isEmpty() ? m_storedKey : typedKey();
    s.preset = v4app::endpointPresetFromId(e.preset);
    s.model = e.model;
    s.modelsTimeoutMs = 10'000;
    m_probe = new v4app::RemoteBackend(s, this);
    m_test->setEnabled(false);
    m_result->setText(tr("Connecting to %1…").arg(e.baseUrl.host()));
    connect(m_probe, &v4app::RemoteBackend::modelsReady, this, [this](const QStringList & ids) {
        const QString typed = m_model->currentText();
        m_model->clear();
        m_model->addItems(ids);
        m_model->setEditText(typed.isEmpty() && !ids.isEmpty() ? ids.first() : typed);
        m_result->setText(ids.isEmpty() ? tr("Connected, but the server lists no models.")
                                        : tr("Connected: %n model(s) available.", nullptr, static_cast<int>(ids.size())));
        m_test->setEnabled(true);
        emit testFinished(true);
    });
    connect(m_probe, &v4app::RemoteBackend::modelsFailed, this, [this](const v4app::ChatError & error) {
        m_result->setText(error.message);
        m_test->setEnabled(true);
        emit testFinished(false);
    });
    m_probe->fetchModels();
}

} // namespace v4ui
