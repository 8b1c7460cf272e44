// BackendChooser: which ChatBackend answers a mode profile. "local" is the in-process engine;
// an endpoint id gets a RemoteBackend (one per endpoint, made on first use) configured from the
// endpoint's current settings and its key in EndpointKeys. Keys are read once per endpoint and
// read again after the endpoint list changes.
//
//     BackendChooser chooser(profiles, *keys, localBackend);
//     controller.setBackendChooser([&chooser](const ModeProfile & p) { return chooser.backendFor(p); });
#pragma once

#include <QHash>
#include <QObject>

#include "modes/ModeProfile.h"

namespace v4app {

class ChatBackend;
class EndpointKeys;
class ProfileStore;
class RemoteBackend;

class BackendChooser final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BackendChooser)

public:
    BackendChooser(ProfileStore & profiles, EndpointKeys & keys, ChatBackend & local, QObject * parent = nullptr);

    // The local backend, or the endpoint's; null when the profile names an endpoint that is gone.
    ChatBackend * backendFor(const ModeProfile & profile);

private:
    ProfileStore &                  m_profiles;
    EndpointKeys &                  m_keys;
    ChatBackend &                   m_local;
    QHash<QString, RemoteBackend *> m_remotes; // endpoint id -> backend (children of this)
    QHash<QString, QString>         m_keyCache;
};

} // namespace v4app
