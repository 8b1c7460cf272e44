#include "SelfTest.h"

#include <QApplication>
#include <QEventLoop>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTextStream>
#include <QTimer>

#include "ChatWiring.h"
#include "MainWindow.h"
#include "backends/LocalBackend.h"
#include "chat/ChatController.h"
#include "core/AppInfo.h"
#include "core/AppPaths.h"
#include "storage/ConversationStore.h"
#include "v4/devices.h"

namespace v4app {

namespace {

struct Reporter {
    QTextStream out{stdout};
    int         failures = 0;

    void check(bool ok, const QString & what, const QString & detail = QString()) {
        out << (ok ? "ok   " : "FAIL ") << what;
        if (!detail.isEmpty()) {
            out << ": " << detail;
        }
        out << Qt::endl;
        failures += ok ? 0 : 1;
    }
};

// Sends one message through the real window, the local engine and a throwaway conversation
// database (the user's history is not touched); returns the reply.
QString askThroughTheWindow(v4ui::MainWindow & window, const QString & model, const QString & question, QString * error) {
    QTemporaryDir scratch;
    auto          db = Database::open(scratch.filePath(QStringLiteral("selftest.sqlite3")));
    if (!db) {
        *error = db.error().message;
        return {};
    }
    ConversationStore store(*db.value());
    LocalBackend      backend({.contextSize = 1024, .threads = 0});
    ChatController    controller(&backend, &store, model);
    controller.setMaxTokens(24); // enough to show the pipeline works, quick on any CPU
    wireChat(window, controller, store);
    wireLocalBackend(window, controller, backend);

    QString    reply;
    QEventLoop loop;
    QObject::connect(&controller, &ChatController::answerReceived, &loop, [&reply](const QString & t) { reply += t; });
    QObject::connect(&controller, &ChatController::answerFinished, &loop, &QEventLoop::quit);
    QObject::connect(&controller, &ChatController::answerFailed, &loop, [&](const QString & message, bool) {
        *error = message;
        loop.quit();
    });
    QTimer::singleShot(180000, &loop, [&] {
        *error = QStringLiteral("no answer within 180 s");
        controller.stop();
        loop.quit();
    });
    emit window.sendRequested(question, v4ui::MainWindow::Mode::Fast);
    loop.exec();
    window.setStore(nullptr); // the scratch store goes away with this function
    return reply.trimmed();
}

} // namespace

int runSelfTest(QApplication & app) {
    Reporter report;
    report.check(true, QStringLiteral("version"), versionString());

    QString error;
    report.check(AppPaths::ensureCreated(&error), QStringLiteral("data folder"), error.isEmpty() ? AppPaths::dataDir() : error);

    const v4::compute_device_report device = v4::probe_compute_devices();
    report.check(true, QStringLiteral("compute backend"),
                 QString::fromStdString(device.backend + " — " + device.description + " (" + device.reason + ")"));

    v4ui::MainWindow window;
    window.show();
    app.processEvents();
    report.check(window.isVisible() && window.width() > 0, QStringLiteral("main window opens"),
                 QStringLiteral("%1x%2 on platform '%3'").arg(window.width()).arg(window.height()).arg(QApplication::platformName()));

    const QString model = AppPaths::defaultModelPath();
    if (QFileInfo::exists(model)) {
        const QString question = QStringLiteral("What is the capital of France?");
        QString       answerError;
        const QString reply = askThroughTheWindow(window, model, question, &answerError);
        report.out << "     Q: " << question << Qt::endl << "     A: " << reply << Qt::endl;
        report.check(answerError.isEmpty() && !reply.isEmpty(), QStringLiteral("one message through the default model"),
                     answerError.isEmpty() ? model : answerError);
    } else {
        report.check(true, QStringLiteral("default model"),
                     QStringLiteral("not present at %1: message round trip skipped (the setup wizard offers the model)").arg(model));
    }

    report.out << (report.failures == 0 ? "selftest passed" : "selftest FAILED") << Qt::endl;
    return report.failures == 0 ? 0 : 1;
}

} // namespace v4app
