// Settings > Backends: the local engine (threads, device, context window) and the list of remote
// OpenAI-compatible servers, each edited in an EndpointForm.
#pragma once

#include <QHash>
#include <QSet>
#include <QVector>

#include "modes/ModeProfile.h"
#include "settings/SettingsPage.h"

class QComboBox;
class QListWidget;
class QPushButton;
class QSpinBox;

namespace v4app {
class EndpointKeys;
class ProfileStore;
} // namespace v4app

namespace v4ui {

class EndpointForm;

class BackendsPage final : public SettingsPage {
    Q_OBJECT

public:
    BackendsPage(v4app::ProfileStore & profiles, v4app::EndpointKeys & keys, QWidget * parent = nullptr);

    QString     title() const override { return tr("Backends"); }
    void        load() override;
    QStringList validate() const override;
    void        apply() override;

    // The working list, with the form's current edits.
    QVector<v4app::RemoteEndpoint> endpoints() const;

    EndpointForm * endpointForm() const { return m_form; }
    QListWidget *  endpointList() const { return m_list; }
    void           addEndpoint();
    void           removeSelectedEndpoint();

signals:
    void endpointsEdited(); // names or the list changed (the Modes page offers them)

private:
    QWidget * buildLocalGroup();
    QWidget * buildServersGroup();
    void      show(int row);
    void      keepFormEdits();
    void      refreshNames();

    v4app::ProfileStore & m_profiles;
    v4app::EndpointKeys & m_keys;

    QSpinBox *  m_threads = nullptr;
    QComboBox * m_device = nullptr;
    QSpinBox *  m_context = nullptr;

    QListWidget *  m_list = nullptr;
    QPushButton *  m_remove = nullptr;
    EndpointForm * m_form = nullptr;
    QLabel *       m_emptyHint = nullptr;

    QVector<v4app::RemoteEndpoint> m_endpoints;  // working copy
    QHash<QString, QString>        m_newKeys;    // endpoint id -> key typed in this session
    QSet<QString>                  m_removedIds; // their keys are deleted on apply
    int                            m_shown = -1; // row shown in the form
};

} // namespace v4ui
