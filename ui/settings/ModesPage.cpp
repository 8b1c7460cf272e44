#include "settings/ModesPage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

#include "modes/ProfileStore.h"
#include "modes/Router.h"

namespace v4ui {

namespace {

QDoubleSpinBox * makeDouble(QWidget * parent, double lo, double hi, double step, int decimals = 2) {
    auto * box = new QDoubleSpinBox(parent);
    box->setRange(lo, hi);
    box->setSingleStep(step);
    box->setDecimals(decimals);
    return box;
}

} // namespace

ProfileEditor::ProfileEditor(v4app::ChatMode mode, v4app::ProfileStore & profiles, QWidget * parent)
    : QWidget(parent), m_mode(mode), m_profiles(profiles) {
    auto * layout = new QVBoxLayout(this);
    layout->setContentsMargins(14, 14, 14, 10);
    layout->setSpacing(10);

    // One grid, so every label lines up: backend and model span the row, sampling in two columns.
    auto * grid = new QGridLayout;
    grid->setHorizontalSpacing(12);
    grid->setVerticalSpacing(10);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);
    grid->setColumnMinimumWidth(2, 130);
    int row = 0;
    const auto label = [&](const QString & text, QWidget * field, int r, int c, int span = 1) {
        auto * l = new QLabel(text, this);
        l->setBuddy(field);
        l->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
        field->setAccessibleName(text);
        grid->addWidget(l, r, c);
        grid->addWidget(field, r, c + 1, 1, span);
    };
    m_backend = new QComboBox(this);
    label(tr("Backend"), m_backend, row++, 0, 3);
    m_model = new QComboBox(this);
    label(tr("Model"), m_model, row++, 0, 3);
    m_thinking = new QCheckBox(tr("Think before answering (shows its reasoning)"), this);
    m_thinking->setAccessibleName(tr("Thinking"));
    grid->addWidget(m_thinking, row++, 1, 1, 3);

    m_temperature = makeDouble(this, 0, 2, 0.05);
    label(tr("Temperature"), m_temperature, row, 0);
    m_minP = makeDouble(this, 0, 0.99, 0.01);
    label(tr("Min-p"), m_minP, row++, 2);
    m_topP = makeDouble(this, 0.01, 1, 0.01);
    label(tr("Top-p"), m_topP, row, 0);
    m_repeat = makeDouble(this, 0.5, 2, 0.05);
    label(tr("Repeat penalty"), m_repeat, row++, 2);
    m_topK = new QSpinBox(this);
    m_topK->setRange(0, 1000);
    m_topK->setSpecialValueText(tr("Off"));
    label(tr("Top-k"), m_topK, row, 0);
    m_maxTokens = new QSpinBox(this);
    m_maxTokens->setRange(16, 131'072);
    m_maxTokens->setSingleStep(256);
    label(tr("Max answer tokens"), m_maxTokens, row++, 2);
    m_budget = new QSpinBox(this);
    m_budget->setRange(0, 131'072);
    m_budget->setSingleStep(512);
    m_budget->setSuffix(tr(" tokens"));
    label(tr("Thinking budget"), m_budget, row++, 2);
    layout->addLayout(grid);

    auto * systemLabel = new QLabel(tr("System prompt"), this);
    m_system = new QPlainTextEdit(this);
    m_system->setPlaceholderText(tr("Optional instructions sent before every conversation in this mode"));
    m_system->setAccessibleName(tr("System prompt"));
    m_system->setFixedHeight(64);
    systemLabel->setBuddy(m_system);
    layout->addWidget(systemLabel);
    layout->addWidget(m_system);

    m_note = new QLabel(this);
    m_note->setObjectName(QStringLiteral("Note"));
    m_note->setWordWrap(true);
    m_note->setAccessibleName(tr("Note about this mode"));
    layout->addWidget(m_note);

    auto * reset = new QPushButton(tr("Restore defaults"), this);
    reset->setAccessibleName(tr("Restore defaults for this mode"));
    auto * resetRow = new QHBoxLayout;
    resetRow->addStretch();
    resetRow->addWidget(reset);
    layout->addLayout(resetRow);
    layout->addStretch();

    connect(reset, &QPushButton::clicked, this, [this] {
        setProfile(m_profiles.defaultProfile(m_mode));
        emit edited();
    });
    connect(m_backend, &QComboBox::currentIndexChanged, this, [this] {
        if (m_filling) return;
        refreshModelChoices();
        emit edited();
    });
    connect(m_model, &QComboBox::currentTextChanged, this, [this] {
        if (!m_filling) emit edited();
    });
    connect(m_thinking, &QCheckBox::toggled, this, [this] {
        syncEnabled();
        if (!m_filling) emit edited();
    });
    for (QDoubleSpinBox * box : {m_temperature, m_topP, m_minP, m_repeat}) {
        connect(box, &QDoubleSpinBox::valueChanged, this, [this] {
            if (!m_filling) emit edited();
        });
    }
    for (QSpinBox * box : {m_topK, m_maxTokens, m_budget}) {
        connect(box, &QSpinBox::valueChanged, this, [this] {
            if (!m_filling) emit edited();
        });
    }
    connect(m_system, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_filling) emit edited();
    });
}

void ProfileEditor::setChoices(const QVector<v4app::RemoteEndpoint> & endpoints, const QStringList & localModels) {
    const v4app::ModeProfile current = profile();
    m_endpoints = endpoints;
    m_localModels = localModels;
    m_filling = true;
    m_backend->clear();
    m_backend->addItem(tr("This computer (local engine)"), v4app::kLocalBackendId);
    for (const v4app::RemoteEndpoint & e : endpoints) {
        m_backend->addItem(e.name.isEmpty() ? tr("(unnamed server)") : e.name, e.id);
    }
    m_filling = false;
    if (!current.backend.isEmpty()) {
        setProfile(current);
    }
}

void ProfileEditor::refreshModelChoices() {
    const QString backend = m_backend->currentData().toString();
    const bool local = backend == v4app::kLocalBackendId;
    const bool wasFilling = m_filling;
    m_filling = true;
    m_model->clear();
    m_model->setEditable(!local);
    if (local) {
        m_model->addItem(tr("Default model (%1)").arg(QFileInfo(m_profiles.defaultLocalModel()).fileName()), QString());
        for (const QString & path : m_localModels) {
            m_model->addItem(QFileInfo(path).fileName(), path);
            m_model->setItemData(m_model->count() - 1, path, Qt::ToolTipRole);
        }
    } else {
        for (const v4app::RemoteEndpoint & e : m_endpoints) {
            if (e.id == backend && !e.model.isEmpty()) {
                m_model->lineEdit()->setPlaceholderText(tr("Server default (%1)").arg(e.model));
                m_model->addItem(e.model);
            }
        }
        if (m_mode == v4app::ChatMode::Expert) {
            m_model->addItem(QStringLiteral("deepseek-reasoner"));
        }
        m_model->setEditText(QString());
    }
    m_filling = wasFilling;
}

void ProfileEditor::syncEnabled() { m_budget->setEnabled(m_thinking->isChecked()); }

void ProfileEditor::setProfile(const v4app::ModeProfile & p) {
    m_filling = true;
    int backendIndex = m_backend->findData(p.backend);
    if (backendIndex < 0) {
        // The server was removed: show it as missing so validation can say so.
        m_backend->addItem(tr("(removed server)"), p.backend);
        backendIndex = m_backend->count() - 1;
    }
    m_backend->setCurrentIndex(backendIndex);
    refreshModelChoices();
    if (p.isLocal()) {
        int modelIndex = m_model->findData(p.model);
        if (modelIndex < 0) {
            m_model->addItem(QFileInfo(p.model).fileName(), p.model);
            modelIndex = m_model->count() - 1;
        }
        m_model->setCurrentIndex(modelIndex);
    } else {
        m_model->setEditText(p.model);
    }
    m_thinking->setChecked(p.thinking);
    m_temperature->setValue(p.sampling.temperature);
    m_topP->setValue(p.sampling.topP);
    m_topK->setValue(p.sampling.topK);
    m_minP->setValue(p.sampling.minP);
    m_repeat->setValue(p.sampling.repetitionPenalty);
    m_maxTokens->setValue(p.maxTokens);
    m_budget->setValue(p.thinkingBudget);
    m_system->setPlainText(p.systemPrompt);
    syncEnabled();
    m_filling = false;
}

v4app::ModeProfile ProfileEditor::profile() const {
    v4app::ModeProfile p;
    p.backend = m_backend->currentData().toString();
    p.model = p.isLocal() ? m_model->currentData().toString() : m_model->currentText().trimmed();
    p.thinking = m_thinking->isChecked();
    p.sampling.temperature = m_temperature->value();
    p.sampling.topP = m_topP->value();
    p.sampling.topK = m_topK->value();
    p.sampling.minP = m_minP->value();
    p.sampling.repetitionPenalty = m_repeat->value();
    p.maxTokens = m_maxTokens->value();
    p.thinkingBudget = m_budget->value();
    p.systemPrompt = m_system->toPlainText();
    return p;
}

void ProfileEditor::setNote(const QString & note) {
    m_note->setText(note);
    m_note->setVisible(!note.isEmpty());
}

ModesPage::ModesPage(v4app::ProfileStore & profiles, QWidget * parent) : SettingsPage(parent), m_profiles(profiles) {
    auto * layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(10);
    layout->addWidget(makePageHeader(title(), tr("Each mode is a profile. Auto sends each message to Fast or Expert."), this));
    m_tabs = new QTabWidget(this);
    m_tabs->setAccessibleName(tr("Mode"));
    m_fast = new ProfileEditor(v4app::ChatMode::Fast, profiles, m_tabs);
    m_expert = new ProfileEditor(v4app::ChatMode::Expert, profiles, m_tabs);
    m_tabs->addTab(m_fast, tr("Fast"));
    m_tabs->addTab(m_expert, tr("Expert"));
    m_tabs->addTab(buildAutoTab(), tr("Auto"));
    layout->addWidget(m_tabs, 1);
    for (ProfileEditor * e : {m_fast, m_expert}) {
        connect(e, &ProfileEditor::edited, this, &SettingsPage::changed);
    }
}

QWidget * ModesPage::buildAutoTab() {
    auto * tab = new QWidget(m_tabs);
    auto * layout = new QVBoxLayout(tab);
    layout->setContentsMargins(14, 14, 14, 10);
    layout->setSpacing(10);
    auto * text = new QLabel(tr("Auto looks at each message (length, code, maths, words such as \"prove\", \"compare\", "
                                "\"step by step\", and the conversation so far) and answers it in Fast or Expert. "
                                "\"Think hard\" or \"quick answer\" in a message always decides."),
                             tab);
    text->setWordWrap(true);
    layout->addWidget(text);
    auto * form = new QFormLayout;
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_threshold = new QSpinBox(tab);
    m_threshold->setRange(1, 9);
    m_threshold->setToolTip(tr("Lower: Expert more often. Higher: Fast more often. Default %1.")
                                .arg(v4app::ProfileStore::kDefaultAutoThreshold));
    addFormRow(form, tr("Expert from score"), m_threshold);
    m_try = new QLineEdit(tab);
    m_try->setPlaceholderText(tr("Type a message to see where Auto sends it"));
    addFormRow(form, tr("Try it"), m_try);
    layout->addLayout(form);
    m_preview = new QLabel(tab);
    m_preview->setObjectName(QStringLiteral("RoutePreview"));
    m_preview->setWordWrap(true);
    m_preview->setAccessibleName(tr("Auto's choice"));
    layout->addWidget(m_preview);
    layout->addStretch();
    connect(m_threshold, &QSpinBox::valueChanged, this, [this] {
        updatePreview();
        emit changed();
    });
    connect(m_try, &QLineEdit::textChanged, this, &ModesPage::updatePreview);
    return tab;
}

void ModesPage::updatePreview() {
    const QString text = m_try->text();
    if (text.trimmed().isEmpty()) {
        m_preview->setText(tr("Example: \"Prove that √2 is irrational\" goes to Expert; \"What's the capital of Peru?\" to Fast."));
        return;
    }
    const v4app::RouteDecision d = v4app::Router(m_threshold->value()).route(text);
    m_preview->setText(d.summary() + tr("  (score %1)").arg(d.score));
}

ProfileEditor * ModesPage::editor(v4app::ChatMode mode) const { return mode == v4app::ChatMode::Expert ? m_expert : m_fast; }

void ModesPage::setEndpoints(const QVector<v4app::RemoteEndpoint> & endpoints) {
    m_endpoints = endpoints;
    const QStringList models = m_profiles.localSettings().modelFiles;
    for (ProfileEditor * e : {m_fast, m_expert}) {
        e->setChoices(endpoints, models);
    }
}

void ModesPage::load() {
    m_endpoints = m_profiles.endpoints();
    const QStringList models = m_profiles.localSettings().modelFiles;
    for (v4app::ChatMode mode : {v4app::ChatMode::Fast, v4app::ChatMode::Expert}) {
        ProfileEditor * e = editor(mode);
        e->setChoices(m_endpoints, models);
        e->setProfile(m_profiles.profile(mode));
        e->setNote(m_profiles.profileNote(mode));
    }
    m_threshold->setValue(m_profiles.autoThreshold());
    updatePreview();
}

QStringList ModesPage::validate() const {
    QStringList problems;
    for (v4app::ChatMode mode : {v4app::ChatMode::Fast, v4app::ChatMode::Expert}) {
        const v4app::ModeProfile p = editor(mode)->profile();
        const bool exists = std::any_of(m_endpoints.begin(), m_endpoints.end(), [&](const auto & e) { return e.id == p.backend; });
        for (const QString & problem : v4app::validateProfile(p, exists)) {
            problems << tr("%1 mode: %2").arg(mode == v4app::ChatMode::Fast ? tr("Fast") : tr("Expert"), problem);
        }
    }
    return problems;
}

void ModesPage::apply() {
    for (v4app::ChatMode mode : {v4app::ChatMode::Fast, v4app::ChatMode::Expert}) {
        const v4app::ModeProfile p = editor(mode)->profile();
        // Untouched defaults stay unsaved, so they keep following the configured models.
        if (m_profiles.isCustomised(mode) || !(p == m_profiles.profile(mode))) {
            m_profiles.setProfile(mode, p);
        }
        editor(mode)->setNote(m_profiles.profileNote(mode));
    }
    if (m_threshold->value() != m_profiles.autoThreshold()) {
        m_profiles.setAutoThreshold(m_threshold->value());
    }
}

} // namespace v4ui
