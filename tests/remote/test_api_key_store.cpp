// ApiKeyStore: the labelled 0600 fallback file, a damaged file left alone, the keychain probe
// (whatever this machine has), and no key in any log line.
#include "backends/ApiKeyStore.h"

#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>

using namespace v4app;

namespace {

const QString kKey = QStringLiteral("sk-store-secret-9876543210");

QStringList g_log;

void captureMessage(QtMsgType, const QMessageLogContext &, const QString & text) {
    g_log.append(text);
}

} // namespace

class TestApiKeyStore : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;

    ApiKeyStore::Options fileOptions() const {
        ApiKeyStore::Options o;
        o.useKeychain = false;
        o.fallbackPath = m_dir.filePath(QStringLiteral("keys/api-keys.json"));
        return o;
    }

private slots:
    void init() {
        QFile::remove(m_dir.filePath(QStringLiteral("keys/api-keys.json")));
    }

    void fallbackFileRoundTripIsPrivateAndLabelled() {
        ApiKeyStore store(fileOptions());
        QCOMPARE(store.backend(), ApiKeyStore::Backend::UnencryptedFile);
        QVERIFY(!store.isEncrypted());
        QVERIFY(store.backendDescription().contains(QLatin1String("stored unencrypted")));

        QVERIFY(store.store(QStringLiteral("deepseek"), kKey).ok);
        QVERIFY(store.store(QStringLiteral("openai"), QStringLiteral("sk-other")).ok);
        const QString path = fileOptions().fallbackPath;
        QCOMPARE(QFile::permissions(path), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser | QFileDevice::WriteUser);

        // A second store object (the next app start) reads what the first wrote.
        ApiKeyStore again(fileOptions());
        auto loaded = again.load(QStringLiteral("deepseek"));
        QVERIFY(loaded.ok);
        QVERIFY(loaded.found);
        QCOMPARE(loaded.key, kKey);

        QVERIFY(again.remove(QStringLiteral("deepseek")).ok);
        loaded = again.load(QStringLiteral("deepseek"));
        QVERIFY(loaded.ok);
        QVERIFY(!loaded.found);
        QCOMPARE(again.load(QStringLiteral("openai")).key, QStringLiteral("sk-other"));
        QVERIFY(again.remove(QStringLiteral("never-stored")).ok);
        // Storing an empty key removes it.
        QVERIFY(again.store(QStringLiteral("openai"), QString()).ok);
        QVERIFY(!again.load(QStringLiteral("openai")).found);
    }

    void damagedFileIsNeverOverwritten() {
        const QString path = fileOptions().fallbackPath;
        ApiKeyStore   store(fileOptions());
        QVERIFY(store.store(QStringLiteral("a"), QStringLiteral("x")).ok); // creates the folder
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("{not json");
        file.close();

        const auto stored = store.store(QStringLiteral("deepseek"), kKey);
        QVERIFY(!stored.ok);
        QVERIFY2(stored.error.contains(QLatin1String("damaged")), qPrintable(stored.error));
        QVERIFY(!stored.error.contains(kKey));
        QVERIFY(!store.load(QStringLiteral("deepseek")).ok);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), QByteArray("{not json"));
    }

    void emptyEndpointIdIsRefused() {
        ApiKeyStore store(fileOptions());
        const auto r = store.store(QStringLiteral("  "), kKey);
        QVERIFY(!r.ok);
        QVERIFY(!r.error.isEmpty());
    }

    // The real probe: a keychain where one runs (desktop session), the labelled file otherwise
    // (CI, this headless machine). Either way the round trip works and says where the key went.
    void keychainOrLabelledFallbackAndNoKeyInLogs() {
        g_log.clear();
        QLoggingCategory::setFilterRules(QStringLiteral("*.debug=true"));
        const QtMessageHandler previous = qInstallMessageHandler(captureMessage);

        ApiKeyStore::Options o;
        o.service = QStringLiteral("v4chat-test");
        o.fallbackPath = m_dir.filePath(QStringLiteral("keys/api-keys.json"));
        ApiKeyStore store(o);
        const QString description = store.backendDescription();
        const bool    stored = store.store(QStringLiteral("test-endpoint"), kKey).ok;
        const auto    loaded = store.load(QStringLiteral("test-endpoint"));
        const bool    removed = store.remove(QStringLiteral("test-endpoint")).ok;

        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());
        qInfo("backend: %s", qPrintable(description));
        QVERIFY(stored);
        QCOMPARE(loaded.key, kKey);
        QVERIFY(removed);
        QVERIFY(!store.load(QStringLiteral("test-endpoint")).found);
        if (store.backend() == ApiKeyStore::Backend::UnencryptedFile) {
            QVERIFY(description.contains(QLatin1String("stored unencrypted")));
        }
        for (const QString & line : std::as_const(g_log)) {
            QVERIFY2(!line.contains(QLatin1String("9876543210")), qPrintable(line));
        }
    }
};

QTEST_GUILESS_MAIN(TestApiKeyStore)
#include "test_api_key_store.moc"
