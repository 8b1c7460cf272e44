// The real Settings dialog, offscreen: every page, Apply/OK/Cancel, validation, endpoints with
// keys and "Test connection" against a loopback server, the model manager, live theme preview,
// and accessible names on every control.
#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

#include "Theme.h"
#include "modes/EndpointKeys.h"
#include "modes/ProfileStore.h"
#include "settings/AppearanceDataPages.h"
#include "settings/BackendsPage.h"
#include "settings/EndpointForm.h"
#include "settings/ModelsPage.h"
#include "settings/ModesPage.h"
#include "settings/SettingsDialog.h"
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
} // namespace

class TestSettingsDialog : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        qputenv("V4_DATA_DIR", m_dir.path().toLocal8Bit());
    }
    void init() {
        m_settings = m_dir.filePath(QStringLiteral("settings-%1.ini").arg(++m_counter));
        m_profiles = std::make_unique<ProfileStore>(m_settings);
        m_keys = std::make_unique<MemoryEndpointKeys>();
        m_dialog = std::make_unique<SettingsDialog>(*m_profiles, *m_keys, m_settings);
        m_dialog->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_dialog.get()));
    }
    void cleanup() { m_dialog.reset(); }

    void everyControlHasAnAccessibleName();
    void applySavesAndOkCloses();
    void cancelDiscardsEdits();
    void invalidValuesAreRefusedWithAMessage();
    void endpointWithKeyBecomesAModeBackend();
    void testConnectionListsModels();
    void testConnectionReportsAFailure();
    void modelManagerAddsShowsAndRemoves();
    void themePreviewsLiveAndCancelRestores();
    void escapeCancels();
    void screenshots(); // only with V4_SCREENSHOT_DIR set (tools/screenshot-dialogs)

private:
    QTemporaryDir m_dir;
    QString       m_settings;
    int           m_counter = 0;
    std::unique_ptr<ProfileStore>       m_profiles;
    std::unique_ptr<MemoryEndpointKeys> m_keys;
    std::unique_ptr<SettingsDialog>     m_dialog;
};

void TestSettingsDialog::everyControlHasAnAccessibleName() {
    m_dialog->backendsPage()->addEndpoint(); // shows the endpoint form too
    QStringList unnamed;
    for (QWidget * w : m_dialog->findChildren<QWidget *>()) {
        const bool control = qobject_cast<QLineEdit *>(w) || qobject_cast<QComboBox *>(w) || qobject_cast<QAbstractSpinBox *>(w) ||
                             qobject_cast<QAbstractButton *>(w) || qobject_cast<QPlainTextEdit *>(w) ||
                             qobject_cast<QListWidget *>(w) || qobject_cast<QTabWidget *>(w);
        if (!control || (w->inherits("QLineEdit") && qobject_cast<QAbstractSpinBox *>(w->parentWidget()))) continue;
        if (qobject_cast<QLineEdit *>(w) && qobject_cast<QComboBox *>(w->parentWidget())) continue; // a combo's own editor
        if (w->inherits("QTabBar") || w->inherits("QScrollBar") || w->inherits("QToolButton")) continue; // Qt's internals
        const auto * button = qobject_cast<QAbstractButton *>(w);
        if (w->accessibleName().isEmpty() && !(button && !button->text().isEmpty())) {
            unnamed << QStringLiteral("%1 %2").arg(QString::fromLatin1(w->metaObject()->className()), w->objectName());
        }
    }
    QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join(QStringLiteral(", "))));
}

void TestSettingsDialog::applySavesAndOkCloses() {
    m_dialog->showPage(SettingsDialog::Page::Modes);
    QVERIFY(!m_dialog->applyButton()->isEnabled());
    ProfileEditor * fast = m_dialog->modesPage()->editor(ChatMode::Fast);
    fast->temperatureBox()->setValue(0.3);
    QVERIFY(m_dialog->applyButton()->isEnabled());
    QTest::mouseClick(m_dialog->applyButton(), Qt::LeftButton);
    QCOMPARE(m_profiles->profile(ChatMode::Fast).sampling.temperature, 0.3);
    QVERIFY(!m_dialog->applyButton()->isEnabled());
    QVERIFY(m_dialog->isVisible());

    m_dialog->modesPage()->autoThresholdBox()->setValue(5);
    QTest::mouseClick(m_dialog->okButton(), Qt::LeftButton);
    QVERIFY(!m_dialog->isVisible());
    QCOMPARE(m_dialog->result(), int(QDialog::Accepted));
    QCOMPARE(ProfileStore(m_settings).autoThreshold(), 5); // on disk, for the next start
}

void TestSettingsDialog::cancelDiscardsEdits() {
    const ModeProfile before = m_profiles->profile(ChatMode::Expert);
    m_dialog->modesPage()->editor(ChatMode::Expert)->thinkingBox()->setChecked(false);
    QTest::mouseClick(m_dialog->cancelButton(), Qt::LeftButton);
    QVERIFY(!m_dialog->isVisible());
    QCOMPARE(m_profiles->profile(ChatMode::Expert), before);
    QVERIFY(!m_profiles->isCustomised(ChatMode::Expert));
}

void TestSettingsDialog::invalidValuesAreRefusedWithAMessage() {
    BackendsPage * page = m_dialog->backendsPage();
    page->addEndpoint();
    auto * address = byName<QLineEdit>(page->endpointForm(), QStringLiteral("Address"));
    QVERIFY(address);
    address->clear();
    QTest::keyClicks(address, QStringLiteral("ftp://example.org"));
    QTest::mouseClick(m_dialog->okButton(), Qt::LeftButton);
    QVERIFY(m_dialog->isVisible()); // not closed
    QVERIFY(m_dialog->problemsLabel()->isVisible());
    QVERIFY2(m_dialog->problemsLabel()->text().contains(QStringLiteral("http://")), qPrintable(m_dialog->problemsLabel()->text()));
    QVERIFY(m_profiles->endpoints().isEmpty()); // nothing written

    address->clear();
    QTest::keyClicks(address, QStringLiteral("http://127.0.0.1:9"));
    QTest::mouseClick(m_dialog->okButton(), Qt::LeftButton);
    QVERIFY(!m_dialog->isVisible());
    QCOMPARE(m_profiles->endpoints().size(), 1);
}

void TestSettingsDialog::endpointWithKeyBecomesAModeBackend() {
    BackendsPage * page = m_dialog->backendsPage();
    page->addEndpoint();
    EndpointForm * form = page->endpointForm();
    auto * name = byName<QLineEdit>(form, QStringLiteral("Name"));
    name->clear();
    QTest::keyClicks(name, QStringLiteral("Lab vLLM"));
    QTest::keyClicks(byName<QLineEdit>(form, QStringLiteral("API key")), QStringLiteral("sk-test-123"));
    QCOMPARE(page->endpointList()->item(0)->text(), QStringLiteral("Lab vLLM"));

    // The Modes page offers the server before anything is applied.
    ProfileEditor * expert = m_dialog->modesPage()->editor(ChatMode::Expert);
    const int index = expert->backendBox()->findText(QStringLiteral("Lab vLLM"));
    QVERIFY(index > 0);
    expert->backendBox()->setCurrentIndex(index);
    QVERIFY(m_dialog->apply());

    const QVector<RemoteEndpoint> saved = m_profiles->endpoints();
    QCOMPARE(saved.size(), 1);
    QCOMPARE(saved[0].name, QStringLiteral("Lab vLLM"));
    QCOMPARE(m_keys->load(saved[0].id), QStringLiteral("sk-test-123"));
    QCOMPARE(m_profiles->profile(ChatMode::Expert).backend, saved[0].id);
    QFile ini(m_settings);
    QVERIFY(ini.open(QIODevice::ReadOnly));
    QVERIFY(!ini.readAll().contains("sk-test-123")); // keys never land in settings.ini

    // Removing the server leaves Expert pointing nowhere: refused until the mode is fixed.
    page->removeSelectedEndpoint();
    QVERIFY(!m_dialog->apply());
    QVERIFY(m_dialog->problemsLabel()->text().contains(QStringLiteral("Expert")));
    expert->backendBox()->setCurrentIndex(0);
    QVERIFY(m_dialog->apply());
    QVERIFY(m_profiles->endpoints().isEmpty());
    QVERIFY(m_keys->load(saved[0].id).isEmpty()); // its key is gone too
}

void TestSettingsDialog::testConnectionListsModels() {
    LoopbackHttpServer server;
    server.setAnswer("/v1/models", {200, "application/json", R"({"object":"list","data":[{"id":"qwen3-8b"},{"id":"deepseek-r1"}]})"});
    BackendsPage * page = m_dialog->backendsPage();
    page->addEndpoint();
    EndpointForm * form = page->endpointForm();
    auto * type = byName<QComboBox>(form, QStringLiteral("Type"));
    type->setCurrentIndex(type->findData(QStringLiteral("vllm")));
    auto * address = byName<QLineEdit>(form, QStringLiteral("Address"));
    address->setText(server.url().toString());
    QTest::keyClicks(byName<QLineEdit>(form, QStringLiteral("API key")), QStringLiteral("sk-loop"));
    QSignalSpy done(form, &EndpointForm::testFinished);
    QTest::mouseClick(form->testButton(), Qt::LeftButton);
    QVERIFY(done.wait(10'000));
    QCOMPARE(done.first().first().toBool(), true);
    QVERIFY2(form->testResult()->text().contains(QStringLiteral("2 model")), qPrintable(form->testResult()->text()));
    auto * model = byName<QComboBox>(form, QStringLiteral("Model"));
    QCOMPARE(model->count(), 2);
    QCOMPARE(server.lastAuthorization(), QByteArray("Bearer sk-loop"));
}

void TestSettingsDialog::testConnectionReportsAFailure() {
    LoopbackHttpServer server;
    server.setAnswer("/v1/models", {401, "application/json", R"({"error":{"message":"bad key"}})"});
    BackendsPage * page = m_dialog->backendsPage();
    page->addEndpoint();
    EndpointForm * form = page->endpointForm();
    byName<QLineEdit>(form, QStringLiteral("Address"))->setText(server.url().toString());
    QSignalSpy done(form, &EndpointForm::testFinished);
    QTest::mouseClick(form->testButton(), Qt::LeftButton);
    QVERIFY(done.wait(10'000));
    QCOMPARE(done.first().first().toBool(), false);
    QVERIFY(!form->testResult()->text().isEmpty());
    QVERIFY(form->testButton()->isEnabled());
}

void TestSettingsDialog::modelManagerAddsShowsAndRemoves() {
    m_dialog->showPage(SettingsDialog::Page::Models);
    ModelsPage * page = m_dialog->modelsPage();
    QTemporaryDir folder;
    QFile text(folder.filePath(QStringLiteral("notes.txt")));
    QVERIFY(text.open(QIODevice::WriteOnly));
    text.write("hello");
    text.close();
    QVERIFY(!page->addFile(text.fileName()));
    QVERIFY(page->message()->text().contains(QStringLiteral("not a GGUF")));

    // A broken .gguf is listed but its metadata says why it cannot be used; no crash.
    QFile broken(folder.filePath(QStringLiteral("broken.gguf")));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("GGUF but not really");
    broken.close();
    QSignalSpy shown(page, &ModelsPage::metadataShown);
    QVERIFY(page->addFile(broken.fileName()));
    QVERIFY(shown.wait(10'000) || shown.size() > 0);
    QVERIFY2(page->message()->text().contains(QStringLiteral("Cannot read")), qPrintable(page->message()->text()));

    const QString model = v4test::defaultModelPath();
    if (QFileInfo::exists(model)) {
        QSignalSpy shown2(page, &ModelsPage::metadataShown);
        QCOMPARE(page->scanFolder(QFileInfo(model).absolutePath()) >= 0, true);
        QVERIFY(page->addFile(model));
        QTRY_VERIFY_WITH_TIMEOUT(page->metadataField(QStringLiteral("Architecture"))->text() == QStringLiteral("gemma3"), 20'000);
        QCOMPARE(page->metadataField(QStringLiteral("Parameters"))->text(), QStringLiteral("268 M"));
        QVERIFY2(page->metadataField(QStringLiteral("Quantization"))->text().startsWith(QStringLiteral("Q4_K_M")),
                 qPrintable(page->metadataField(QStringLiteral("Quantization"))->text()));
        QVERIFY(page->metadataField(QStringLiteral("Context"))->text().contains(QStringLiteral("32,768")));
    } else {
        qWarning("default model absent: metadata of a real file not checked");
    }

    // Remove the broken one from the list: the file stays on disk.
    for (int i = 0; i < page->list()->count(); ++i) {
        if (page->list()->item(i)->data(Qt::UserRole).toString() == broken.fileName()) page->list()->setCurrentRow(i);
    }
    page->removeSelected();
    QVERIFY(!page->modelFiles().contains(broken.fileName()));
    QVERIFY(QFileInfo::exists(broken.fileName()));
    QVERIFY(m_dialog->apply());
    QVERIFY(!m_profiles->localSettings().modelFiles.contains(broken.fileName()));
}

void TestSettingsDialog::themePreviewsLiveAndCancelRestores() {
    applyAppearance({ThemeChoice::Light, 14});
    m_dialog.reset(new SettingsDialog(*m_profiles, *m_keys, m_settings));
    m_dialog->show();
    const auto windowLightness = [] { return qApp->palette().color(QPalette::Window).lightness(); };
    QVERIFY(windowLightness() > 128);
    AppearancePage * page = m_dialog->appearancePage();
    page->choose(ThemeChoice::Dark);
    QVERIFY(windowLightness() < 128); // live, before Apply
    page->fontSizeBox()->setValue(17);
    QVERIFY(qApp->styleSheet().contains(QStringLiteral("17px")));
    QTest::mouseClick(m_dialog->cancelButton(), Qt::LeftButton);
    QVERIFY(windowLightness() > 128); // restored
    QCOMPARE(loadAppearance(m_settings).theme, ThemeChoice::System);

    m_dialog.reset(new SettingsDialog(*m_profiles, *m_keys, m_settings));
    m_dialog->show();
    m_dialog->appearancePage()->choose(ThemeChoice::Dark);
    QTest::mouseClick(m_dialog->okButton(), Qt::LeftButton);
    QCOMPARE(loadAppearance(m_settings).theme, ThemeChoice::Dark);
    QVERIFY(windowLightness() < 128);
    applyAppearance({ThemeChoice::Light, 14});
}

void TestSettingsDialog::escapeCancels() {
    m_dialog->modesPage()->editor(ChatMode::Fast)->temperatureBox()->setValue(1.5);
    QTest::keyClick(m_dialog.get(), Qt::Key_Escape);
    QVERIFY(!m_dialog->isVisible());
    QVERIFY(m_profiles->profile(ChatMode::Fast).sampling.temperature != 1.5);
}

void TestSettingsDialog::screenshots() {
    const QString out = qEnvironmentVariable("V4_SCREENSHOT_DIR");
    if (out.isEmpty()) QSKIP("set V4_SCREENSHOT_DIR to write docs/screenshots/settings*.png");
    applyAppearance({ThemeChoice::Light, 14});
    RemoteEndpoint deepseek{ProfileStore::newEndpointId(), QStringLiteral("DeepSeek"), QStringLiteral("deepseek"),
                            QUrl(QStringLiteral("https://api.deepseek.com")), QStringLiteral("deepseek-chat"), false};
    m_profiles->setEndpoints({deepseek});
    m_keys->store(deepseek.id, QStringLiteral("sk-not-shown"), nullptr);
    m_dialog.reset(new SettingsDialog(*m_profiles, *m_keys, m_settings));
    m_dialog->resize(920, 700);
    m_dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_dialog.get()));
    const auto save = [&](const QString & name) {
        QTest::qWait(150);
        QVERIFY(m_dialog->grab().save(out + QLatin1Char('/') + name));
    };
    m_dialog->showPage(SettingsDialog::Page::Modes);
    m_dialog->modesPage()->tabs()->setCurrentIndex(1);
    save(QStringLiteral("settings.png"));
    m_dialog->modesPage()->tabs()->setCurrentIndex(2);
    m_dialog->modesPage()->autoTryBox()->setText(QStringLiteral("Prove that the algorithm below terminates:\n```\nwhile (n > 1) n = n / 2;\n```"));
    save(QStringLiteral("settings-auto.png"));
    m_dialog->showPage(SettingsDialog::Page::Backends);
    save(QStringLiteral("settings-backends.png"));
    m_dialog->showPage(SettingsDialog::Page::Models);
    if (QFileInfo::exists(v4test::defaultModelPath())) {
        m_dialog->modelsPage()->addFile(v4test::defaultModelPath());
        QTRY_VERIFY_WITH_TIMEOUT(m_dialog->modelsPage()->metadataField(QStringLiteral("Architecture"))->text() == QStringLiteral("gemma3"), 20'000);
    }
    save(QStringLiteral("settings-models.png"));
    m_dialog->showPage(SettingsDialog::Page::Modes);
    m_dialog->appearancePage()->choose(ThemeChoice::Dark); // the live preview
    m_dialog->modesPage()->tabs()->setCurrentIndex(0);
    save(QStringLiteral("settings-dark.png"));
    m_dialog->reject();
    applyAppearance({ThemeChoice::Light, 14});
}

QTEST_MAIN(TestSettingsDialog)
#include "test_settings_dialog.moc"
