// First-run setup: use the default local model, pick a GGUF file, or connect a remote
// OpenAI-compatible endpoint. The choice is returned as a SetupChoice; the caller stores it.
#pragma once

#include <QWizard>

class QButtonGroup;
class QLineEdit;

namespace v4ui {

struct SetupChoice {
    enum class Kind { DefaultModel, GgufFile, RemoteEndpoint };
    Kind    kind = Kind::DefaultModel;
    QString modelPath;   // DefaultModel and GgufFile
    QString endpointUrl; // RemoteEndpoint
};

class SetupWizard final : public QWizard {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SetupWizard)

public:
    // `defaultModelPath` is where the default model lives (or would live once fetched).
    SetupWizard(const QString & defaultModelPath, QWidget * parent = nullptr);

    SetupChoice choice() const;

private:
    QString        m_defaultModelPath;
    QButtonGroup * m_kind = nullptr;
    QLineEdit *    m_ggufPath = nullptr;
    QLineEdit *    m_endpoint = nullptr;
};

} // namespace v4ui
