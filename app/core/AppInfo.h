// Application identity, shared by the desktop app, the CLI and the tests.
#pragma once

#include <QString>

namespace v4app {

inline constexpr auto kAppId = "io.github.v4chat.V4Chat"; // desktop file, icons, AppStream

// Sets QCoreApplication's name, display name and version (from v4/version.h). Call before
// anything touches QStandardPaths or QSettings.
void initApplicationIdentity(const QString & executableName);

QString versionString(); // "<executable> <version>"

} // namespace v4app
