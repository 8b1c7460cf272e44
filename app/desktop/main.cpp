// v4chat: the V4 Chat desktop app.
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QSettings>
#include <QTimer>

#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "ChatWiring.h"
#include "MainWindow.h"
#include "backends/LocalBackend.h"
#include "chat/ChatController.h"
#include "SelfTest.h"
#include "SetupWizard.h"
#include "Theme.h"
#include "core/AppInfo.h"
#include "core/AppPaths.h"
#include "core/Logging.h"
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
    parser.addOptions({verbose, selfTestOption, setup});
    parser.process(app);

    const QString logPath = v4app::setupLogging({QStringLiteral("v4chat"), parser.isSet(verbose), true, true});
    spdlog::info("{} starting; log file {}", v4app::versionString().toStdString(),
                 logPath.isEmpty() ? std::string("(none)") : logPath.toStdString());
    const v4::compute_device_report device = v4::probe_compute_devices();
    spdlog::info("compute backend: {} ({}): {}", device.backend, device.description, device.reason);

    v4ui::applyTheme(app, v4ui::ThemeChoice::System);

    if (selfTest) {
        return v4app::runSelfTest(app);
    }

    QString error;
    if (!v4app::AppPaths::ensureCreated(&error)) {
        spdlog::error("{}", error.toStdString());
    }

    QSettings settings(v4app::AppPaths::settingsPath(), QSettings::IniFormat);
    const QString modelPath = settings.value(QStringLiteral("setup/modelPath"), v4app::AppPaths::defaultModelPath()).toString();

    v4ui::MainWindow       window;
    v4app::LocalBackend    backend;
    v4app::ChatController  controller(&backend, modelPath);
    v4app::wireChat(window, controller, backend);
    window.show();
    if (QFileInfo::exists(modelPath)) {
        backend.loadModel(modelPath);
    }

    const bool needsSetup = parser.isSet(setup) || !settings.value(QStringLiteral("setup/completed"), false).toBool();
    auto runSetup = [&window, &settings, &controller, &backend] {
        v4ui::SetupWizard wizard(v4app::AppPaths::defaultModelPath(), &window);
        if (wizard.exec() == QDialog::Accepted) {
            const v4ui::SetupChoice choice = wizard.choice();
            settings.setValue(QStringLiteral("setup/completed"), true);
            settings.setValue(QStringLiteral("setup/kind"), static_cast<int>(choice.kind));
            settings.setValue(QStringLiteral("setup/modelPath"), choice.modelPath);
            settings.setValue(QStringLiteral("setup/endpointUrl"), choice.endpointUrl);
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
    return app.exec();
}
