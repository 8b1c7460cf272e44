// Where tests find their inputs: committed fixtures, and the default model fetched by tools/run
// or tools/test (V4_MODELS_DIR, else the app's data folder). Real-model tests skip with a message
// naming the path when the model is absent.
#pragma once

#include <QDir>
#include <QString>
#include <QStandardPaths>

namespace v4test {

inline QString fixturePath(const QString & name) {
    return QStringLiteral(V4_TEST_FIXTURES) + QLatin1Char('/') + name;
}

inline QString modelsDir() {
    const QByteArray env = qgetenv("V4_MODELS_DIR");
    if (!env.isEmpty()) {
        return QString::fromLocal8Bit(env);
    }
    return QDir::homePath() + QStringLiteral("/.local/share/v4chat/models");
}

inline QString defaultModelPath() {
    return modelsDir() + QLatin1Char('/') + QStringLiteral(V4_DEFAULT_MODEL_NAME);
}

} // namespace v4test

// Skips the current test function unless the default model is present.
#define V4_REQUIRE_DEFAULT_MODEL(pathVar)                                                             \
    const QString pathVar = v4test::defaultModelPath();                                             \
    if (!QFileInfo::exists(pathVar))                                                                \
        QSKIP(qPrintable(QStringLiteral("default model not found at %1 (run tools/run or tools/test to fetch it)").arg(pathVar)))
