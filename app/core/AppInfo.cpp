#include "core/AppInfo.h"

#include <QCoreApplication>

#include "v4/version.h"

namespace v4app {

void initApplicationIdentity(const QString & executableName) {
    // No organisation name: data then lives in ~/.local/share/v4chat, the folder tools/run fills.
    QCoreApplication::setOrganizationName(QString());
    QCoreApplication::setApplicationName(QStringLiteral("v4chat"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(v4::k_version));
    QCoreApplication::setProperty("v4ExecutableName", executableName);
}

QString versionString() {
    const QString exe = QCoreApplication::instance()
        ? QCoreApplication::instance()->property("v4ExecutableName").toString()
        : QStringLiteral("v4chat");
    return exe + QLatin1Char(' ') + QString::fromLatin1(v4::k_version);
}

} // namespace v4app
