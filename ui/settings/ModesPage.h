// Settings > Modes: one ProfileEditor each for Fast and Expert (backend, model, sampling,
// thinking, budgets, system prompt) and Auto's sensitivity with a live "try a message" preview.
#pragma once

#include <QVector>

#include "chat/ChatController.h"
#include "modes/ModeProfile.h"
#include "settings/SettingsPage.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSlider;
class QSpinBox;
class QTabWidget;

namespace v4app {
class ProfileStore;
} // namespace v4app

namespace v4ui {

class ProfileEditor final : public QWidget {
    Q_OBJECT

public:
    ProfileEditor(v4app::ChatMode mode, v4app::ProfileStore & profiles, QWidget * parent = nullptr);

    void                setProfile(const v4app::ModeProfile & profile);
    v4app::ModeProfile  profile() const;
    // Backends offered: the local engine, then these servers. Keeps the current choice if it is still there.
    void setChoices(const QVector<v4app::RemoteEndpoint> & endpoints, const QStringList & localModels);
    void setNote(const QString & note);

    QComboBox *      backendBox() const { return m_backend; }
    QDoubleSpinBox * temperatureBox() const { return m_temperature; }
    QCheckBox *      thinkingBox() const { return m_thinking; }

signals:
    void edited();

private:
    void refreshModelChoices();
    void syncEnabled();

    v4app::ChatMode         m_mode;
    v4app::ProfileStore &   m_profiles;
    QVector<v4app::RemoteEndpoint> m_endpoints;
    QStringList             m_localModels;
    QComboBox *      m_backend = nullptr;
    QComboBox *      m_model = nullptr;
    QCheckBox *      m_thinking = nullptr;
    QDoubleSpinBox * m_temperature = nullptr;
    QDoubleSpinBox * m_topP = nullptr;
    QSpinBox *       m_topK = nullptr;
    QDoubleSpinBox * m_minP = nullptr;
    QDoubleSpinBox * m_repeat = nullptr;
    QSpinBox *       m_maxTokens = nullptr;
    QSpinBox *       m_budget = nullptr;
    QPlainTextEdit * m_system = nullptr;
    QLabel *         m_note = nullptr;
    bool             m_filling = false;
};

class ModesPage final : public SettingsPage {
    Q_OBJECT

public:
    explicit ModesPage(v4app::ProfileStore & profiles, QWidget * parent = nullptr);

    QString     title() const override { return tr("Modes"); }
    void        load() override;
    QStringList validate() const override;
    void        apply() override;

    // The servers the Backends page is editing (not yet applied).
    void setEndpoints(const QVector<v4app::RemoteEndpoint> & endpoints);

    ProfileEditor * editor(v4app::ChatMode mode) const;
    QTabWidget *    tabs() const { return m_tabs; }
    QSpinBox *      autoThresholdBox() const { return m_threshold; }
    QLineEdit *     autoTryBox() const { return m_try; }
    QLabel *        autoPreview() const { return m_preview; }

private:
    QWidget * buildAutoTab();
    void      updatePreview();

    v4app::ProfileStore &          m_profiles;
    QVector<v4app::RemoteEndpoint> m_endpoints;
    QTabWidget *    m_tabs = nullptr;
    ProfileEditor * m_fast = nullptr;
    ProfileEditor * m_expert = nullptr;
    QSpinBox *      m_threshold = nullptr;
    QLineEdit *     m_try = nullptr;
    QLabel *        m_preview = nullptr;
};

} // namespace v4ui
