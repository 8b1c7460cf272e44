// EndpointForm: the fields of one remote server (name, type, address, model, API key, images)
// and "Test connection", which lists the server's models (GET /v1/models) into the model box.
// Used by Settings > Backends and by the setup wizard. The key field never shows a stored key;
// typing replaces it.
#pragma once

#include <QPointer>
#include <QWidget>

#include "modes/ModeProfile.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace v4app {
class RemoteBackend;
} // namespace v4app

namespace v4ui {

class EndpointForm final : public QWidget {
    Q_OBJECT

public:
    explicit EndpointForm(QWidget * parent = nullptr);

    // Fills the fields. `storedKey` is used by Test connection when no new key is typed.
    void                  setEndpoint(const v4app::RemoteEndpoint & endpoint, const QString & storedKey);
    v4app::RemoteEndpoint endpoint() const; // id as given to setEndpoint
    QString               typedKey() const; // empty: keep the stored one
    void                  setKeyStorageNote(const QString & note);

    QPushButton * testButton() const { return m_test; }
    QLabel *      testResult() const { return m_result; }

signals:
    void edited();
    void testFinished(bool ok); // after Test connection

private:
    void onPresetChosen();
    void testConnection();

    QString       m_id;
    QString       m_storedKey;
    QLineEdit *   m_name = nullptr;
    QComboBox *   m_preset = nullptr;
    QLineEdit *   m_url = nullptr;
    QComboBox *   m_model = nullptr;
    QLineEdit *   m_key = nullptr;
    QLabel *      m_keyNote = nullptr;
    QCheckBox *   m_images = nullptr;
    QPushButton * m_test = nullptr;
    QLabel *      m_result = nullptr;
    QPointer<v4app::RemoteBackend> m_probe;
    bool          m_filling = false;
};

} // namespace v4ui
