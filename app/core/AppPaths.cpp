#include "core/AppPaths.h"

#include <QDir>
#include <QStandardPaths>

namespace v4app {

namespace {
QString fromEnv(const char * name) {
    const QByteArray value = qgetenv(name);
    return value.isEmpty() ? QString() : QDir::cleanPath(QString::fromLocal8Bit(value));
}
} // namespace

QString AppPaths::dataDir() {
    const QString overridden = fromEnv("V4_DATA_DIR");
    return overridden.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) : overridden;
}

QString AppPaths::modelsDir() {
    const QString overridden = fromEnv("V4_MODELS_DIR");
    return overridden.isEmpty() ? dataDir() + QStringLiteral("/models") : overridden;
}

QString AppPaths::logsDir() { return dataDir() + QStringLiteral("/logs"); }

QString AppPaths::databasePath() { return dataDir() + QStringLiteral("/v4chat.sqlite3"); }

QString AppPaths::documentsDatabasePath() { return dataDir() + QStringLiteral("/documents.sqlite3"); }

QString AppPaths::snapshotsDir() { return dataDir() + QStringLiteral("/snapshots"); }

QString AppPaths::settingsPath() {
    const QString base = qEnvironmentVariableIsEmpty("V4_DATA_DIR")
        ? QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) : dataDir();
    return base + QStringLiteral("/settings.ini");
}

QString AppPaths::defaultModelFileName() { return QStringLiteral("gemma-3-270m-q4_k_m.gguf"); }

QString AppPaths::defaultModelPath() { return modelsDir() + QLatin1Char('/') + defaultModelFileName(); }

bool AppPaths::ensureCreated(QString * error) {
    for (const QString & dir : {dataDir(), modelsDir(), logsDir()}) {
        if (!QDir().mkpath(dir)) {
            if (error) {
                *error = QStringLiteral("cannot create the folder %1").arg(dir);
            }
            return false;
        }
    }
    return true;
}

} // namespace v4app
