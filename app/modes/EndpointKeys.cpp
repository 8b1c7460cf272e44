#include "modes/EndpointKeys.h"

#include <QObject>

#include "backends/ApiKeyStore.h"

namespace v4app {

namespace {

class SystemEndpointKeys final : public EndpointKeys {
public:
    bool store(const QString & endpointId, const QString & key, QString * error) override {
        return report(m_store.store(endpointId, key), error);
    }
    QString load(const QString & endpointId) override {
        const ApiKeyStore::Result r = m_store.load(endpointId);
        return r.ok && r.found ? r.key : QString();
    }
    bool remove(const QString & endpointId, QString * error) override { return report(m_store.remove(endpointId), error); }
    QString description() override { return m_store.backendDescription(); }

private:
    static bool report(const ApiKeyStore::Result & r, QString * error) {
        if (!r.ok && error) {
            *error = r.error;
        }
        return r.ok;
    }
    ApiKeyStore m_store;
};

} // namespace

std::unique_ptr<EndpointKeys> makeSystemEndpointKeys() { return std::make_unique<SystemEndpointKeys>(); }

bool MemoryEndpointKeys::store(const QString & endpointId, const QString & key, QString *) {
    m_keys.insert(endpointId, key);
    return true;
}

bool MemoryEndpointKeys::remove(const QString & endpointId, QString *) {
    m_keys.remove(endpointId);
    return true;
}

QString MemoryEndpointKeys::description() {
    return QObject::tr("Kept in memory for this session only (not saved)");
}

} // namespace v4app
