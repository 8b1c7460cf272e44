// ApiKeyStore: API keys of remote endpoints, kept out of settings files and logs.
//
// Keys go to the OS keychain through QtKeychain (Secret Service / KWallet on Linux, Keychain on
// macOS, Credential Manager on Windows), one entry per endpoint id under the service name. When
// no keychain service answers (a headless session without a Secret Service, as on CI), keys go
// to a fallback file in the data folder, readable only by the user (0600) but NOT encrypted;
// isEncrypted() and backendDescription() say so, for the Settings UI to show. The store never
// logs a key, and errors never contain one.
//
// The calls are synchronous: each waits (in a local event loop, at most timeoutMs) for the
// keychain's answer, so call them from the GUI thread in response to a user action, not from a
// paint or a timer. The backend is chosen by a probe on the first call and kept for the object's
// lifetime.
//
//     ApiKeyStore keys;                                  // service "v4chat", file in AppPaths::dataDir()
//     if (auto r = keys.store(endpointId, key); !r.ok) showError(r.error);
//     label->setText(keys.backendDescription());         // "... (stored unencrypted)" on the fallback
//     const auto loaded = keys.load(endpointId);         // loaded.found, loaded.key
#pragma once

#include <QString>

namespace v4app {

class ApiKeyStore final {
public:
    enum class Backend { Keychain, UnencryptedFile };

    struct Result {
        bool    ok = false;    // the operation worked (load: also when no key was stored)
        bool    found = false; // load: a key exists for the endpoint
        QString key;           // load: the key
        QString error;         // !ok: for people, without the key
    };

    struct Options {
        QString service = QStringLiteral("v4chat");  // keychain service name (tests use their own)
        QString fallbackPath;                        // empty: AppPaths::dataDir() + "/api-keys.json"
        bool    useKeychain = true;                  // false: straight to the file (tests)
        int     timeoutMs = 10'000;                  // per keychain call
    };

    ApiKeyStore();
    explicit ApiKeyStore(Options options);

    Result store(const QString & endpointId, const QString & key);
    Result load(const QString & endpointId);
    Result remove(const QString & endpointId); // ok when there was nothing to remove

    Backend backend();
    bool    isEncrypted() { return backend() == Backend::Keychain; }
    // One line for the Settings UI, e.g. "System keychain" or
    // "File ~/.local/share/v4chat/api-keys.json (stored unencrypted: no system keychain found)".
    QString backendDescription();

private:
    struct KeychainAnswer {
        int     code = 0; // QKeychain::Error
        QString text;
        QString data;
    };
    enum class Op { Read, Write, Delete };
    KeychainAnswer runKeychain(Op op, const QString & endpointId, const QString & key = {}) const;
    void           probe();

    Result fileStore(const QString & endpointId, const QString & key);
    Result fileLoad(const QString & endpointId) const;
    Result fileRemove(const QString & endpointId);

    Options m_options;
    bool    m_probed = false;
    Backend m_backend = Backend::UnencryptedFile;
    QString m_keychainProblem; // why the fallback is used
};

} // namespace v4app
