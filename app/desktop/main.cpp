// v4chat: the V4 Chat desktop app.
#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QFileInfo>
#include <QIcon>
#include <QSettings>
#include <QTimer>

#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "ChatView.h"
#include "ChatWiring.h"
#include "DatabaseStartup.h"
#include "MainWindow.h"
#include "backends/LocalBackend.h"
#include "chat/ChatController.h"
#include "SelfTest.h"
#include "SetupWizard.h"
#include "Toast.h"
#include "settings/SettingsDialog.h"
#include "Theme.h"
#include "core/AppInfo.h"
#include "core/AppPaths.h"
#include "core/Logging.h"
#include "documents/DocumentsController.h"
#include "documents/EngineTokenCounter.h"
#include "modes/BackendChooser.h"
#include "modes/EndpointKeys.h"
#include "modes/ProfileStore.h"
#include "sessions/SessionSnapshotStore.h"
#include "sessions/TrashPurge.h"
#include "storage/ConversationStore.h"
#include "v4/devices.h"
#include "v4/version.h"

namespace {

bool hasArg(int argc, char ** argv, const char * flag) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], flag) == 0) {
            return true;
        }
    }
    return false;
}

// QApplication aborts with a terse xcb message when there is no display; say what to do instead.
bool displayAvailable() {
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") ||
           !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

const QString kLastConversationKey = QStringLiteral("session/lastConversation");

} // namespace

int main(int argc, char ** argv) {
    // Answer --version before creating QApplication, so it works without a display.
    if (hasArg(argc, argv, "--version")) {
        std::printf("v4chat %s\n", v4::k_version);
        return 0;
    }
    const bool selfTest = hasArg(argc, argv, "--selftest");
    if (selfTest && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && !displayAvailable()) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    if (!displayAvailable() && !hasArg(argc, argv, "--help")) {
        std::fprintf(stderr,
                     "v4chat: no display found (DISPLAY and WAYLAND_DISPLAY are unset).\n"
                     "        Start it from a desktop session, or run it under a virtual display: xvfb-run -a v4chat\n"
                     "        (Debian: apt-get install xvfb), or headless: QT_QPA_PLATFORM=offscreen v4chat --selftest\n");
        return 2;
    }

    QApplication app(argc, argv);
    v4app::initApplicationIdentity(QStringLiteral("v4chat"));
    QApplication::setApplicationDisplayName(QStringLiteral("V4 Chat"));
    QApplication::setDesktopFileName(QString::fromLatin1(v4app::kAppId));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/io.github.v4chat.V4Chat.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("V4 Chat: chat with local and remote language models."));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("version"), QStringLiteral("Print the version and exit.")});
    const QCommandLineOption verbose(QStringLiteral("verbose"), QStringLiteral("Log debug detail to the console."));
    const QCommandLineOption selfTestOption(QStringLiteral("selftest"),
                                            QStringLiteral("Open the window offscreen, check the installation and exit."));
    const QCommandLineOption setup(QStringLiteral("setup"), QStringLiteral("Show the setup wizard even if set up already."));
    const QCommandLineOption theme(QStringLiteral("theme"), QStringLiteral("Colour theme for this run: light, dark or system."),
                                   QStringLiteral("theme"));
    const QCommandLineOption importJson(QStringLiteral("import"),
                                        QStringLiteral("Import a conversation exported as JSON and open it (may be repeated)."),
                                        QStringLiteral("file"));
    // Developer options (tools/screenshot and the GUI tests use them); not for everyday use.
    QCommandLineOption devSend(QStringLiteral("dev-send"), QStringLiteral("Developer: send this message once the window is up."),
                               QStringLiteral("text"));
    QCommandLineOption devExpand(QStringLiteral("dev-expand-thinking"),
                                 QStringLiteral("Developer: show every Thinking section expanded."));
    QCommandLineOption devQuit(QStringLiteral("dev-quit-after-start"),
                               QStringLiteral("Developer: quit once the window is shown and the last conversation restored."));
    for (QCommandLineOption * dev : {&devSend, &devExpand, &devQuit}) {
        dev->setFlags(QCommandLineOption::HiddenFromHelp);
    }
    parser.addOptions({verbose, selfTestOption, setup, theme, importJson, devSend, devExpand, devQuit});
    parser.process(app);

    const QString logPath = v4app::setupLogging({QStringLiteral("v4chat"), parser.isSet(verbose), true, true});
    spdlog::info("{} starting; log file {}", v4app::versionString().toStdString(),
                 logPath.isEmpty() ? std::string("(none)") : logPath.toStdString());
    const v4::compute_device_report device = v4::probe_compute_devices();
    spdlog::info("compute backend: {} ({}): {}", device.backend, device.description, device.reason);

    QSettings settings(v4app::AppPaths::settingsPath(), QSettings::IniFormat);
    // Settings > Appearance; --theme wins for this run ("light", "dark", "system").
    v4ui::Appearance appearance = v4ui::loadAppearance(v4app::AppPaths::settingsPath());
    if (parser.isSet(theme)) {
        appearance.theme = v4ui::themeChoiceFromName(parser.value(theme));
    }
    v4ui::applyAppearance(appearance);

    if (selfTest) {
        return v4app::runSelfTest(app);
    }

    QString error;
    if (!v4app::AppPaths::ensureCreated(&error)) {
        spdlog::error("{}", error.toStdString());
    }

    std::unique_ptr<v4app::Database> db =
        v4app::openConversationDatabase(v4app::AppPaths::databasePath(), v4app::dialogStartupUi(nullptr));
    if (!db) {
        return 1;
    }
    v4app::ConversationStore store(*db);
    if (auto interrupted = store.markInterrupted(); interrupted && interrupted.value() > 0) {
        spdlog::warn("{} answer(s) were cut off by the last exit and are marked interrupted", interrupted.value());
    }

    // Modes are profiles (Settings > Modes); the local engine's threads and context come from Settings > Backends.
    v4app::ProfileStore profiles(v4app::AppPaths::settingsPath());
    const std::unique_ptr<v4app::EndpointKeys> keys = v4app::makeSystemEndpointKeys();
    const v4app::LocalEngineSettings local = profiles.localSettings();
    const QString modelPath = profiles.defaultLocalModel();

    v4ui::MainWindow      window;
    // Long prefills are saved per conversation (app/sessions) and restored when it is reopened.
    v4app::LocalBackend   backend({.contextSize = local.contextSize, .threads = local.threads,
                                   .snapshotsDir = v4app::AppPaths::snapshotsDir()});
    v4app::ChatController controller(&backend, &store, modelPath);
    v4app::BackendChooser backends(profiles, *keys, backend);
    controller.setProfiles(&profiles);
    controller.setBackendChooser([&backends](const v4app::ModeProfile & p) { return backends.backendFor(p); });
    // "Auto → Expert: contains code" with a one-click switch to the other mode.
    QObject::connect(&controller, &v4app::ChatController::autoRouted, &window,
                     [&window, &controller](qint64, const QString & summary, v4app::ChatMode chosen) {
                         const bool expert = chosen == v4app::ChatMode::Expert;
                         window.toast()->show(summary, expert ? QObject::tr("Use Fast") : QObject::tr("Use Expert"),
                                              [&controller] { controller.overrideAutoChoice(); });
                     });
    QObject::connect(&window, &v4ui::MainWindow::settingsRequested, &window, [&window, &profiles, &keys] {
        v4ui::SettingsDialog dialog(profiles, *keys, v4app::AppPaths::settingsPath(), &window);
        dialog.exec();
    });
    v4app::wireChat(window, controller, store);
    v4app::wireLocalBackend(window, controller, backend);
    // Documents live in their own database; imports cut off by the last exit finish now.
    v4app::documents::DocumentsController documents;
    if (!documents.isOpen()) {
        window.showNotice(QObject::tr("Documents are unavailable: %1").arg(documents.openError()), true);
    } else {
        v4app::wireDocuments(window, controller, documents);
        if (const int resumed = documents.resumePendingImports(); resumed > 0) {
            spdlog::info("resuming {} document import(s) cut off by the last exit", resumed);
        }
    }
    // Trash older than 30 days goes for good, with its document attachments and saved session states.
    v4app::sessions::SessionSnapshotStore snapshots(v4app::AppPaths::snapshotsDir());
    if (auto purged = v4app::sessions::purgeOldTrash(store, documents.store(), &snapshots, QDateTime::currentDateTimeUtc()); !purged) {
        spdlog::warn("the trash could not be emptied: {}", purged.error().message.toStdString());
    }
    // Document budgets count with the loaded model's tokenizer (approximate until then).
    QObject::connect(&backend, &v4app::LocalBackend::modelLoaded, &documents, [&documents](const QString & path) {
        QString tokenizerError;
        if (auto counter = v4app::documents::EngineTokenCounter::open(path, &tokenizerError)) {
            documents.setTokenCounter(std::move(counter));
        } else {
            spdlog::warn("documents: token counts stay approximate: {}", tokenizerError.toStdString());
        }
    });
    QObject::connect(&controller, &v4app::ChatController::conversationLoaded, &settings,
                     [&settings](qint64 id) { settings.setValue(kLastConversationKey, id); });
    if (parser.isSet(devExpand)) {
        QObject::connect(&controller, &v4app::ChatController::conversationLoaded, &window, [&window, &controller] {
            for (const auto & m : controller.messages()) {
                if (!m.thinking.isEmpty() && !window.chatView()->isThinkingExpanded(m.id)) {
                    window.chatView()->toggleThinking(m.id);
                }
            }
        });
    }
    window.show();

    qint64 openId = settings.value(kLastConversationKey, 0).toLongLong();
    for (const QString & file : parser.values(importJson)) { // the last one imported is opened
        auto imported = store.importJsonFile(file);
        if (imported) {
            openId = imported.value();
        } else {
            window.showNotice(imported.error().message, true);
        }
    }
    if (openId != 0 && store.conversation(openId)) {
        controller.openConversation(openId);
    }
    if (QFileInfo::exists(modelPath)) {
        window.setBackendStatus(QObject::tr("Local engine"), QObject::tr("loading %1…").arg(QFileInfo(modelPath).fileName()));
        backend.loadModel(modelPath);
    }
    if (parser.isSet(devSend)) {
        QTimer::singleShot(0, &window, [&window, &controller, &parser, &devSend] {
            controller.newConversation();
            controller.send(parser.value(devSend), v4app::ChatMode::Fast);
        });
    }
    if (parser.isSet(devQuit)) {
        QTimer::singleShot(0, &app, &QApplication::quit);
        return app.exec();
    }

    const bool needsSetup = parser.isSet(setup) || !settings.value(QStringLiteral("setup/completed"), false).toBool();
    auto runSetup = [&window, &profiles, &keys, &controller, &backend] {
        v4ui::SetupWizard wizard(v4app::AppPaths::defaultModelPath(), &window);
        if (wizard.exec() == QDialog::Accepted) {
            const v4ui::SetupChoice choice = wizard.choice();
            v4ui::writeSetupChoice(choice, profiles, *keys);
            if (choice.kind != v4ui::SetupChoice::Kind::RemoteEndpoint && QFileInfo::exists(choice.modelPath)) {
                controller.setModel(choice.modelPath);
                backend.loadModel(choice.modelPath);
            }
        }
    };
    QObject::connect(&window, &v4ui::MainWindow::setupRequested, &window, runSetup);
    if (needsSetup) {
        QTimer::singleShot(0, &window, runSetup);
    }
    const int rc = app.exec();
    (void)store.flushAll();
    return rc;
}
