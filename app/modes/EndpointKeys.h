// EndpointKeys: where the API keys of remote endpoints are kept, behind a small interface so
// that Settings, the wizard and the tests do not care which store is used. The app uses the OS
// keychain (backends/ApiKeyStore, through makeSystemEndpointKeys()); MemoryEndpointKeys keeps
// keys for this run only (tests, and the plain fallback). No implementation logs a key.
#pragma once

#include <QHash>
#include <QString>

#include <memory>

namespace v4app {

class EndpointKeys {
public:
    virtual ~EndpointKeys() = default;
    virtual bool    store(const QString & endpointId, const QString & key, QString * error) = 0;
    virtual QString load(const QString & endpointId) = 0; // empty when none is stored
    virtual bool    remove(const QString & endpointId, QString * error) = 0;
    virtual QString description() = 0; // for Settings: where keys go, and whether encrypted
};

// The OS keychain through backends/ApiKeyStore (a labelled 0600 file where no keychain answers).
std::unique_ptr<EndpointKeys> makeSystemEndpointKeys();

class MemoryEndpointKeys final : public EndpointKeys {
public:
    bool    store(const QString & endpointId, const QString & key, QString *) override;
    QString load(const QString & endpointId) override { return m_keys.value(endpointId); }
    bool    remove(const QString & endpointId, QString *) override;
    QString description() override;

private:
    QHash<QString, QString> m_keys;
};

} // namespace v4app
