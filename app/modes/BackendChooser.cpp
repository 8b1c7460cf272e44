#include "modes/BackendChooser.h"

#include "backends/RemoteBackend.h"
#include "modes/EndpointKeys.h"
#include "modes/ProfileStore.h"

namespace v4app {

BackendChooser::BackendChooser(ProfileStore & profiles, EndpointKeys & keys, ChatBackend & local, QObject * parent)
    : QObject(parent), m_profiles(profiles), m_keys(keys), m_local(local) {
    connect(&m_profiles, &ProfileStore::endpointsChanged, this, [this] { m_keyCache.clear(); });
}

ChatBackend * BackendChooser::backendFor(const ModeProfile & profile) {
    if (profile.isLocal()) {
        return &m_local;
    }
    const std::optional<RemoteEndpoint> endpoint = m_profiles.endpoint(profile.backend);
    if (!endpoint) {
        return nullptr;
    }
    if (!m_keyCache.contains(endpoint->id)) {
        m_keyCache.insert(endpoint->id, m_keys.load(endpoint->id));
    }
    RemoteSettings settings;
    settings.baseUrl = endpoint->baseUrl;
    settings.apiKey = m_keyCache.value(endpoint->id);
    settings.preset = endpointPresetFromId(endpoint->preset);
    settings.model = endpoint->model;
    settings.acceptsImages = endpoint->acceptsImages;
    RemoteBackend *& backend = m_remotes[endpoint->id];
    if (!backend) {
        backend = new RemoteBackend(settings, this);
    } else if (!backend->isBusy()) {
        backend->setSettings(settings);
    }
    return backend;
}

} // namespace v4app
