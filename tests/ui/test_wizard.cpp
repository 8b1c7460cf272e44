// The real setup wizard, offscreen: the three paths (default model with a user-started,
// checksummed download from a loopback server; a GGUF file; a remote endpoint with a connection
// test) and what writeSetupChoice() stores. Nothing is fetched unless Download is pressed.
#include <QAbstractButton>
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QComboBox>

#include "SetupWizard.h"
#include "Theme.h"
#include "modes/EndpointKeys.h"
#include "modes/ProfileStore.h"
#include "settings/EndpointForm.h"
#include "test_paths.h"
#include "test_settings_loopback_server.h"

using namespace v4app;
using namespace v4ui;

namespace {
template <class T> T * byName(QWidget * root, const QString & name) {
    for (T * w : root->findChildren<T *>()) {
        if (w->accessibleName() == name) return w;
    }
    return nullptr;
}

QByteArray fakeModel() {
    QByteArray bytes(3 * 1024 * 1024 + 17, '\0');
    for (qsizetype i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) ^ (i >> 9));
    return bytes;
}
} // namespace

class TestWizard : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        qputenv("V4_DATA_DIR", m_dir.path().toLocal8Bit());
    }
    void init() { m_target = m_dir.filePath(QStringLiteral("models-%1/default.gguf").arg(++m_counter)); }

    void nothingIsDownloadedByItself();
    void downloadWithProgressAndChecksum();
    void damagedDownloadIsRejected();
    void downloadCanBeCancelled();
    void ggufFileIsChecked();
    void remoteEndpointIsTestedAndStored();
    void defaultChoiceIsStored();
    void screenshots(); // only with V4_SCREENSHOT_DIR set (tools/screenshot-dialogs)

private:
    void goToPage(SetupWizard & wizard, SetupChoice::Kind kind) {
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        wizard.next(); // welcome -> choice
        wizard.kindButton(kind)->click();
        wizard.next();
    }

    QTemporaryDir m_dir;
    QString       m_target;
    int           m_counter = 0;
};

void TestWizard::nothingIsDownloadedByItself() {
    LoopbackHttpServer server;
    SetupWizard wizard(m_target);
    wizard.setDownloadSource(server.url(QStringLiteral("/model.gguf")), "00");
    goToPage(wizard, SetupChoice::Kind::DefaultModel);
    QCOMPARE(wizard.currentId(), int(SetupWizard::DefaultModelPage));
    QTest::qWait(300);
    QCOMPARE(server.requests(), 0);
    QVERIFY(!wizard.button(QWizard::FinishButton)->isEnabled()); // no model yet
    QVERIFY(wizard.downloadButton()->isVisible());
    QVERIFY(!QFileInfo::exists(m_target));
}

void TestWizard::downloadWithProgressAndChecksum() {
    const QByteArray body = fakeModel();
    LoopbackHttpServer server;
    server.setAnswer("/model.gguf", {200, "application/octet-stream", body});
    SetupWizard wizard(m_target);
    wizard.setDownloadSource(server.url(QStringLiteral("/model.gguf")),
                             QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex());
    goToPage(wizard, SetupChoice::Kind::DefaultModel);
    QTest::mouseClick(wizard.downloadButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(wizard.downloadStatus()->text().contains(QStringLiteral("verified")), 20'000);
    QCOMPARE(server.requests(), 1);
    QVERIFY(QFileInfo::exists(m_target));
    QVERIFY(!QFileInfo::exists(m_target + QStringLiteral(".part")));
    QFile file(m_target);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), body);
    QVERIFY(wizard.button(QWizard::FinishButton)->isEnabled());
    QCOMPARE(wizard.choice().modelPath, m_target);
}

void TestWizard::damagedDownloadIsRejected() {
    LoopbackHttpServer server;
    server.setAnswer("/model.gguf", {200, "application/octet-stream", fakeModel()});
    SetupWizard wizard(m_target);
    wizard.setDownloadSource(server.url(QStringLiteral("/model.gguf")), QByteArray(64, 'a'));
    goToPage(wizard, SetupChoice::Kind::DefaultModel);
    QTest::mouseClick(wizard.downloadButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(wizard.downloadStatus()->text().contains(QStringLiteral("damaged")), 20'000);
    QVERIFY(!QFileInfo::exists(m_target));
    QVERIFY(!QFileInfo::exists(m_target + QStringLiteral(".part")));
    QVERIFY(!wizard.button(QWizard::FinishButton)->isEnabled());

    // A missing file on the server: the HTTP status is named.
    wizard.setDownloadSource(server.url(QStringLiteral("/gone.gguf")), QByteArray(64, 'a'));
    QTest::mouseClick(wizard.downloadButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(wizard.downloadStatus()->text().contains(QStringLiteral("404")), 20'000);
}

void TestWizard::downloadCanBeCancelled() {
    // A server that accepts and never answers: the download hangs until cancelled.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    SetupWizard wizard(m_target);
    wizard.setDownloadSource(QUrl(QStringLiteral("http://127.0.0.1:%1/m.gguf").arg(silent.serverPort())), QByteArray(64, 'a'));
    goToPage(wizard, SetupChoice::Kind::DefaultModel);
    QTest::mouseClick(wizard.downloadButton(), Qt::LeftButton);
    QVERIFY(wizard.downloadProgress()->isVisible());
    QTRY_VERIFY(silent.hasPendingConnections() || silent.nextPendingConnection());
    QTest::mouseClick(wizard.downloadButton(), Qt::LeftButton); // now "Cancel download"
    QTRY_VERIFY_WITH_TIMEOUT(wizard.downloadStatus()->text().contains(QStringLiteral("cancelled")), 10'000);
    QVERIFY(!QFileInfo::exists(m_target + QStringLiteral(".part")));
}

void TestWizard::ggufFileIsChecked() {
    SetupWizard wizard(m_target);
    goToPage(wizard, SetupChoice::Kind::GgufFile);
    QCOMPARE(wizard.currentId(), int(SetupWizard::FilePage));
    QLineEdit * path = wizard.modelFileEdit();
    QTest::keyClicks(path, m_dir.filePath(QStringLiteral("nope.gguf")));
    QTest::keyClick(path, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(wizard.modelFileStatus()->text().contains(QStringLiteral("cannot be used")), 10'000);
    QVERIFY(!wizard.button(QWizard::FinishButton)->isEnabled());

    V4_REQUIRE_DEFAULT_MODEL(model);
    path->clear();
    QTest::keyClicks(path, model);
    QTest::keyClick(path, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(wizard.modelFileStatus()->text().startsWith(QStringLiteral("✓")), 20'000);
    QVERIFY(wizard.modelFileStatus()->text().contains(QStringLiteral("gemma3")));
    QVERIFY(wizard.button(QWizard::FinishButton)->isEnabled());

    ProfileStore profiles(m_dir.filePath(QStringLiteral("gguf.ini")));
    MemoryEndpointKeys keys;
    writeSetupChoice(wizard.choice(), profiles, keys);
    QCOMPARE(profiles.defaultLocalModel(), model);
    QVERIFY(profiles.localSettings().modelFiles.contains(model));
}

void TestWizard::remoteEndpointIsTestedAndStored() {
    LoopbackHttpServer server;
    server.setAnswer("/v1/models", {200, "application/json", R"({"data":[{"id":"deepseek-v4-flash"}]})"});
    SetupWizard wizard(m_target);
    goToPage(wizard, SetupChoice::Kind::RemoteEndpoint);
    QCOMPARE(wizard.currentId(), int(SetupWizard::RemotePage));
    EndpointForm * form = wizard.endpointForm();
    auto * type = byName<QComboBox>(form, QStringLiteral("Type"));
    type->setCurrentIndex(type->findData(QStringLiteral("sglang")));
    auto * address = byName<QLineEdit>(form, QStringLiteral("Address"));
    address->clear();
    QTest::keyClicks(address, server.url().toString());
    QTest::keyClicks(byName<QLineEdit>(form, QStringLiteral("API key")), QStringLiteral("sk-wizard"));
    QSignalSpy done(form, &EndpointForm::testFinished);
    QTest::mouseClick(form->testButton(), Qt::LeftButton);
    QVERIFY(done.wait(10'000));
    QVERIFY(done.first().first().toBool());
    QCOMPARE(byName<QComboBox>(form, QStringLiteral("Model"))->currentText(), QStringLiteral("deepseek-v4-flash"));
    QVERIFY(wizard.button(QWizard::FinishButton)->isEnabled());

    const SetupChoice c = wizard.choice();
    QCOMPARE(c.kind, SetupChoice::Kind::RemoteEndpoint);
    ProfileStore profiles(m_dir.filePath(QStringLiteral("remote.ini")));
    MemoryEndpointKeys keys;
    writeSetupChoice(c, profiles, keys);
    QCOMPARE(profiles.endpoints().size(), 1);
    const RemoteEndpoint e = profiles.endpoints().first();
    QCOMPARE(e.preset, QStringLiteral("sglang"));
    QCOMPARE(e.model, QStringLiteral("deepseek-v4-flash"));
    QCOMPARE(keys.load(e.id), QStringLiteral("sk-wizard"));
    QCOMPARE(profiles.profile(ChatMode::Fast).backend, e.id);
    QCOMPARE(profiles.profile(ChatMode::Expert).backend, e.id);
    QVERIFY(profiles.profile(ChatMode::Expert).thinking);
    QVERIFY(QSettings(profiles.settingsPath(), QSettings::IniFormat).value(QStringLiteral("setup/completed")).toBool());
}

void TestWizard::defaultChoiceIsStored() {
    SetupWizard wizard(m_target);
    wizard.show();
    wizard.next();
    QVERIFY(wizard.kindButton(SetupChoice::Kind::DefaultModel)->isChecked()); // the default choice
    ProfileStore profiles(m_dir.filePath(QStringLiteral("default.ini")));
    MemoryEndpointKeys keys;
    writeSetupChoice(wizard.choice(), profiles, keys);
    QVERIFY(profiles.profile(ChatMode::Fast).isLocal());
    QVERIFY(profiles.localSettings().defaultModel.isEmpty()); // follows the built-in model
    QVERIFY(QSettings(profiles.settingsPath(), QSettings::IniFormat).value(QStringLiteral("setup/completed")).toBool());
}

void TestWizard::screenshots() {
    const QString out = qEnvironmentVariable("V4_SCREENSHOT_DIR");
    if (out.isEmpty()) QSKIP("set V4_SCREENSHOT_DIR to write docs/screenshots/setup-wizard*.png");
    v4ui::applyAppearance({v4ui::ThemeChoice::Light, 14});
    SetupWizard wizard(m_target);
    wizard.resize(720, 540);
    wizard.show();
    QVERIFY(QTest::qWaitForWindowExposed(&wizard));
    wizard.next();
    QTest::qWait(150);
    QVERIFY(wizard.grab().save(out + QStringLiteral("/setup-wizard.png")));
    wizard.next(); // the default model page, not downloaded yet
    QTest::qWait(150);
    QVERIFY(wizard.grab().save(out + QStringLiteral("/setup-wizard-download.png")));
    wizard.back();
    wizard.kindButton(SetupChoice::Kind::RemoteEndpoint)->click();
    wizard.next();
    QTest::qWait(150);
    QVERIFY(wizard.grab().save(out + QStringLiteral("/setup-wizard-server.png")));
}

QTEST_MAIN(TestWizard)
#include "test_wizard.moc"
