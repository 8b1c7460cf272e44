// ProfileStore: the mode profiles (Fast, Expert), Auto's routing threshold, the remote endpoints
// and the local engine's settings, kept in settings.ini (QSettings, INI format). Reads come from
// the file each time, so several stores on one file (the dialog's and the controller's) agree;
// every setter writes at once and emits a change signal.
//
//     ProfileStore profiles(AppPaths::settingsPath());
//     ModeProfile expert = profiles.profile(ChatMode::Expert);   // saved, or a sensible default
//     QString note = profiles.profileNote(ChatMode::Expert);     // e.g. "no reasoning model yet"
//     connect(&profiles, &ProfileStore::profileChanged, ...);
//
// Defaults when nothing is saved: Fast is the local default model with thinking off; Expert turns
// thinking on and uses a reasoning model when one is configured (a DeepSeek endpoint, or a local
// GGUF whose name says R1/distill/QwQ), else the local model with a note saying so.
// Lives on one thread (the GUI thread).
#pragma once

#include <QObject>
#include <QStringList>
#include <QVector>

#include <optional>

#include "chat/ChatController.h"
#include "modes/ModeProfile.h"

namespace v4app {

struct LocalEngineSettings {
    int         threads = 0;                  // 0: all cores
    QString     device = QStringLiteral("auto"); // "auto", "cpu" or "cuda"
    int         contextSize = 8192;
    QString     defaultModel;                 // GGUF path; empty: AppPaths::defaultModelPath()
    QStringList modelFolders;                 // scanned for *.gguf by the model manager
    QStringList modelFiles;                   // files the user added or the scan found

    bool operator==(const LocalEngineSettings &) const = default;
};

class ProfileStore final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProfileStore)

public:
    static constexpr int kDefaultAutoThreshold = 3; // Router score at which Auto picks Expert

    explicit ProfileStore(QString settingsPath, QObject * parent = nullptr);

    QString settingsPath() const { return m_path; }

    // Fast or Expert (Auto is answered with Fast's profile; route first).
    ModeProfile profile(ChatMode mode) const;
    ModeProfile defaultProfile(ChatMode mode) const;
    bool        isCustomised(ChatMode mode) const;
    void        setProfile(ChatMode mode, const ModeProfile & profile);
    void        resetProfile(ChatMode mode);
    // One line for the user about a profile's limits; empty when there is nothing to say.
    QString     profileNote(ChatMode mode) const;
    // The GGUF path or remote model id a profile's requests name.
    QString     effectiveModel(const ModeProfile & profile) const;

    int  autoThreshold() const;
    void setAutoThreshold(int threshold);

    QVector<RemoteEndpoint>       endpoints() const;
    std::optional<RemoteEndpoint> endpoint(const QString & id) const;
    void                          setEndpoints(const QVector<RemoteEndpoint> & endpoints);
    static QString                newEndpointId();

    LocalEngineSettings localSettings() const;
    void                setLocalSettings(const LocalEngineSettings & settings);
    QString             defaultLocalModel() const; // localSettings().defaultModel, or the built-in default

signals:
    void profileChanged(v4app::ChatMode mode);
    void autoThresholdChanged(int threshold);
    void endpointsChanged();
    void localSettingsChanged();

private:
    QString m_path;
};

// True for model names that suggest a reasoning model (DeepSeek-R1 distills, QwQ, "reasoner").
bool looksLikeReasoningModel(const QString & nameOrPath);

} // namespace v4app
