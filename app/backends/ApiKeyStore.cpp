#include "backends/ApiKeyStore.h"

#include "core/AppPaths.h"

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTimer>

#include <qt6keychain/keychain.h>

#include <memory>

namespace v4app {

namespace {

constexpr auto kProbeEntry = "v4chat-keychain-probe";

ApiKeyStore::Result failure(QString message) {
    ApiKeyStore::Result r;
    r.error = std::move(message);
    return r;
}

ApiKeyStore::Result success() {
    ApiKeyStore::Result r;
    r.ok = true;
    return r;
}

QString endpointProblem(const QString & endpointId) {
    return endpointId.trimmed().isEmpty() ? QStringLiteral("No endpoint was named for the API key.") : QString();
}

} // namespace

ApiKeyStore::ApiKeyStore() : ApiKeyStore(Options{}) {}

ApiKeyStore::ApiKeyStore(Options options) : m_options(std::move(options)) {
    if (m_options.fallbackPath.isEmpty()) {
        m_options.fallbackPath = AppPaths::dataDir() + QStringLiteral("/api-keys.json");
    }
}

ApiKeyStore::KeychainAnswer ApiKeyStore::runKeychain(Op op, const QString & endpointId, const QString & key) const {
    std::unique_ptr<QKeychain::Job> job;
    switch (op) {
    case Op::Read:
        job = std::make_unique<QKeychain::ReadPasswordJob>(m_options.service);
        break;
    case Op::Write: {
        auto write = std::make_unique<QKeychain::WritePasswordJob>(m_options.service);
        write->setTextData(key);
        job = std::move(write);
        break;
    }
    case Op::Delete:
        job = std::make_unique<QKeychain::DeletePasswordJob>(m_options.service);
        break;
    }
    job->setAutoDelete(false);
    job->setInsecureFallback(false); // our own fallback is labelled; QtKeychain's would be silent
    job->setKey(endpointId);

    QEventLoop loop;
    QTimer     timeout;
    timeout.setSingleShot(true);
    bool timedOut = false;
    QObject::connect(job.get(), &QKeychain::Job::finished, &loop, &QEventLoop::quit);
    QObject::connect(&timeout, &QTimer::timeout, &loop, [&] {
        timedOut = true;
        loop.quit();
    });
    job->start();
    timeout.start(m_options.timeoutMs);
    loop.exec(QEventLoop::ExcludeUserInputEvents);

    KeychainAnswer answer;
    if (timedOut) {
        answer.code = QKeychain::OtherError;
        answer.text = QStringLiteral("the system keychain did not answer within %1 s").arg(m_options.timeoutMs / 1000);
        // The job may still call back later; let it finish on its own and delete itself.
        job->setAutoDelete(true);
        job.release();
        return answer;
    }
    answer.code = job->error();
    answer.text = job->errorString();
    if (op == Op::Read && answer.code == QKeychain::NoError) {
        answer.data = static_cast<QKeychain::ReadPasswordJob *>(job.get())->textData();
    }
    return answer;
}

void ApiKeyStore::probe() {
    if (m_probed) {
        return;
    }
    m_probed = true;
    if (!m_options.useKeychain) {
        m_backend = Backend::UnencryptedFile;
        m_keychainProblem = QStringLiteral("the system keychain is turned off");
        return;
    }
    // Reading an entry that does not exist tells a working keychain (EntryNotFound) from none.
    const KeychainAnswer answer = runKeychain(Op::Read, QString::fromLatin1(kProbeEntry));
    if (answer.code == QKeychain::NoError || answer.code == QKeychain::EntryNotFound) {
        m_backend = Backend::Keychain;
    } else {
        m_backend = Backend::UnencryptedFile;
        m_keychainProblem = QStringLiteral("no system keychain answered") +
                            (answer.text.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(answer.text));
    }
}

ApiKeyStore::Backend ApiKeyStore::backend() {
    probe();
    return m_backend;
}

QString ApiKeyStore::backendDescription() {
    if (backend() == Backend::Keychain) {
        return QStringLiteral("System keychain");
    }
    return QStringLiteral("File %1 (stored unencrypted, readable only by you: %2)")
        .arg(QDir::toNativeSeparators(m_options.fallbackPath), m_keychainProblem);
}

ApiKeyStore::Result ApiKeyStore::store(const QString & endpointId, const QString & key) {
    if (const QString problem = endpointProblem(endpointId); !problem.isEmpty()) {
        return failure(problem);
    }
    if (key.isEmpty()) {
        return remove(endpointId);
    }
    if (backend() == Backend::UnencryptedFile) {
        return fileStore(endpointId, key);
    }
    const KeychainAnswer answer = runKeychain(Op::Write, endpointId, key);
    if (answer.code != QKeychain::NoError) {
        return failure(QStringLiteral("Could not save the API key in the system keychain: %1").arg(answer.text));
    }
    // A key kept in the file from a session without a keychain is now stale.
    fileRemove(endpointId);
    return success();
}

ApiKeyStore::Result ApiKeyStore::load(const QString & endpointId) {
    if (const QString problem = endpointProblem(endpointId); !problem.isEmpty()) {
        return failure(problem);
    }
    if (backend() == Backend::Keychain) {
        const KeychainAnswer answer = runKeychain(Op::Read, endpointId);
        if (answer.code == QKeychain::NoError) {
            Result r = success();
            r.found = true;
            r.key = answer.data;
            return r;
        }
        if (answer.code != QKeychain::EntryNotFound) {
            return failure(QStringLiteral("Could not read the API key from the system keychain: %1").arg(answer.text));
        }
        // Not in the keychain: maybe saved to the file while no keychain was running.
    }
    return fileLoad(endpointId);
}

ApiKeyStore::Result ApiKeyStore::remove(const QString & endpointId) {
    if (const QString problem = endpointProblem(endpointId); !problem.isEmpty()) {
        return failure(problem);
    }
    if (backend() == Backend::Keychain) {
        const KeychainAnswer answer = runKeychain(Op::Delete, endpointId);
        if (answer.code != QKeychain::NoError && answer.code != QKeychain::EntryNotFound) {
            return failure(QStringLiteral("Could not remove the API key from the system keychain: %1").arg(answer.text));
        }
    }
    return fileRemove(endpointId);
}

// The fallback file: {"keys": {"<endpoint id>": "<key>"}}, mode 0600. A file that cannot be
// parsed is never overwritten (it may hold other endpoints' keys); the error names it.
namespace {

struct KeyFile {
    QJsonObject keys;
    QString     error;
};

KeyFile readKeyFile(const QString & path) {
    KeyFile result;
    QFile   file(path);
    if (!file.exists()) {
        return result;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        result.error = QStringLiteral("Cannot read the API key file %1: %2").arg(path, file.errorString());
        return result;
    }
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(file.read(1 << 20), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject() || !doc.object().value(QLatin1String("keys")).isObject()) {
        result.error = QStringLiteral("The API key file %1 is damaged; move it away and enter the keys again").arg(path);
        return result;
    }
    result.keys = doc.object().value(QLatin1String("keys")).toObject();
    return result;
}

QString writeKeyFile(const QString & path, const QJsonObject & keys) {
    if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
        return QStringLiteral("Cannot create the folder for %1").arg(path);
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return QStringLiteral("Cannot write the API key file %1: %2").arg(path, file.errorString());
    }
    // Owner-only before any key is written; the rename in commit() keeps the mode.
    if (!file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
        file.cancelWriting();
        return QStringLiteral("Cannot make the API key file %1 private").arg(path);
    }
    file.write(QJsonDocument(QJsonObject{{QStringLiteral("keys"), keys}}).toJson());
    if (!file.commit()) {
        return QStringLiteral("Cannot write the API key file %1: %2").arg(path, file.errorString());
    }
    return {};
}

} // namespace

ApiKeyStore::Result ApiKeyStore::fileStore(const QString & endpointId, const QString & key) {
    KeyFile kf = readKeyFile(m_options.fallbackPath);
    if (!kf.error.isEmpty()) {
        return failure(kf.error);
    }
    kf.keys.insert(endpointId, key);
    const QString error = writeKeyFile(m_options.fallbackPath, kf.keys);
    return error.isEmpty() ? success() : failure(error);
}

ApiKeyStore::Result ApiKeyStore::fileLoad(const QString & endpointId) const {
    const KeyFile kf = readKeyFile(m_options.fallbackPath);
    if (!kf.error.isEmpty()) {
        return failure(kf.error);
    }
    Result r = success();
    const QJsonValue value = kf.keys.value(endpointId);
    r.found = value.isString();
    r.key = value.toString();
    return r;
}

ApiKeyStore::Result ApiKeyStore::fileRemove(const QString & endpointId) {
    KeyFile kf = readKeyFile(m_options.fallbackPath);
    if (!kf.error.isEmpty()) {
        return failure(kf.error);
    }
    if (!kf.keys.contains(endpointId)) {
        return success();
    }
    kf.keys.remove(endpointId);
    const QString error = writeKeyFile(m_options.fallbackPath, kf.keys);
    return error.isEmpty() ? success() : failure(error);
}

} // namespace v4app
