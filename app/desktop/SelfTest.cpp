#include "SelfTest.h"

#include <QApplication>
#include <QFileInfo>
#include <QTextStream>

#include "MainWindow.h"
#include "core/AppInfo.h"
#include "core/AppPaths.h"
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
    report.check(true, QStringLiteral("default model"),
                 QFileInfo::exists(model) ? model : QStringLiteral("not present at %1 (the setup wizard offers it)").arg(model));

    report.out << (report.failures == 0 ? "selftest passed" : "selftest FAILED") << Qt::endl;
    return report.failures == 0 ? 0 : 1;
}

} // namespace v4app
