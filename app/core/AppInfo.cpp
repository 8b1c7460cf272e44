#include "core/AppInfo.h"

#include <QCoreApplication>

#include "v4/version.h"

namespace v4app {

namespace {
QString & executableName() {
    static QString name = QStringLiteral("v4chat");
    return name;
}
} // namespace

void initApplicationIdentity(const QString & executable) {
    // No organisation name: data then lives in ~/.local/share/v4chat, the folder tools/run fills.
    QCoreApplication::setOrganizationName(QString());
    QCoreApplication::setApplicationName(QStringLiteral("v4chat"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(v4::k_version));
    executableName() = executable;
}

QString versionString() { return executableName() + QLatin1Char(' ') + QString::fromLatin1(v4::k_version); }

} // namespace v4app
