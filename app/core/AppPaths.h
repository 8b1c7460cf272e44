// Where V4 Chat keeps its files on the user's machine (under QStandardPaths::AppDataLocation,
// i.e. ~/.local/share/v4chat on Linux). V4_DATA_DIR overrides the whole data folder (tests,
// portable installs); V4_MODELS_DIR overrides just the models folder (tools/test uses it).
#pragma once

#include <QString>

namespace v4app {

class AppPaths final {
public:
    static QString dataDir();
    static QString modelsDir();
    static QString logsDir();
    static QString databasePath();
    static QString documentsDatabasePath(); // documents.sqlite3 (app/documents)
    static QString snapshotsDir();          // saved session states (app/sessions)
    static QString settingsPath(); // INI file; under V4_DATA_DIR when that is set
    static QString defaultModelFileName(); // gemma-3-270m-q4_k_m.gguf
    static QString defaultModelPath();

    // Creates the folders; returns false (and fills `error`) when one cannot be created.
    static bool ensureCreated(QString * error);
};

} // namespace v4app
