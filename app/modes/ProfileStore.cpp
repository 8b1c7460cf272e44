#include "modes/ProfileStore.h"

#include <QFileInfo>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSettings>

#include "backends/EndpointPresets.h"
#include "core/AppPaths.h"

namespace v4app {

namespace {

QString groupOf(ChatMode mode) {
    return QStringLiteral("modes/") + chatModeName(mode == ChatMode::Expert ? ChatMode::Expert : ChatMode::Fast);
}

ModeProfile readProfile(QSettings & s, const ModeProfile & d) {
    ModeProfile p;
    p.backend = s.value(QStringLiteral("backend"), d.backend).toString();
    p.model = s.value(QStringLiteral("model"), d.model).toString();
    p.sampling.temperature = s.value(QStringLiteral("temperature"), d.sampling.temperature).toDouble();
    p.sampling.topP = s.value(QStringLiteral("topP"), d.sampling.topP).toDouble();
    p.sampling.topK = s.value(QStringLiteral("topK"), d.sampling.topK).toInt();
    p.sampling.minP = s.value(QStringLiteral("minP"), d.sampling.minP).toDouble();
    p.sampling.repetitionPenalty = s.value(QStringLiteral("repeatPenalty"), d.sampling.repetitionPenalty).toDouble();
    p.thinking = s.value(QStringLiteral("thinking"), d.thinking).toBool();
    p.maxTokens = s.value(QStringLiteral("maxTokens"), d.maxTokens).toInt();
    p.thinkingBudget = s.value(QStringLiteral("thinkingBudget"), d.thinkingBudget).toInt();
    p.systemPrompt = s.value(QStringLiteral("systemPrompt"), d.systemPrompt).toString();
    return p;
}

void writeProfile(QSettings & s, const ModeProfile & p) {
    s.setValue(QStringLiteral("backend"), p.backend);
    s.setValue(QStringLiteral("model"), p.model);
    s.setValue(QStringLiteral("temperature"), p.sampling.temperature);
    s.setValue(QStringLiteral("topP"), p.sampling.topP);
    s.setValue(QStringLiteral("topK"), p.sampling.topK);
    s.setValue(QStringLiteral("minP"), p.sampling.minP);
    s.setValue(QStringLiteral("repeatPenalty"), p.sampling.repetitionPenalty);
    s.setValue(QStringLiteral("thinking"), p.thinking);
    s.setValue(QStringLiteral("maxTokens"), p.maxTokens);
    s.setValue(QStringLiteral("thinkingBudget"), p.thinkingBudget);
    s.setValue(QStringLiteral("systemPrompt"), p.systemPrompt);
}

} // namespace

bool looksLikeReasoningModel(const QString & nameOrPath) {
    static const QRegularExpression pattern(QStringLiteral("(^|[^a-z0-9])(r1|qwq|reasoner|reasoning|distill|thinking)([^a-z0-9]|$)"),
                                            QRegularExpression::CaseInsensitiveOption);
    return pattern.match(QFileInfo(nameOrPath).fileName()).hasMatch();
}

ProfileStore::ProfileStore(QString settingsPath, QObject * parent) : QObject(parent), m_path(std::move(settingsPath)) {}

ModeProfile ProfileStore::defaultProfile(ChatMode mode) const {
    ModeProfile p;
    if (mode != ChatMode::Expert) {
        p.maxTokens = 1024;
        return p;
    }
    p.thinking = true;
    p.maxTokens = 4096;
    p.thinkingBudget = 4096;
    p.sampling.temperature = 0.6;
    for (const RemoteEndpoint & e : endpoints()) {
        if (endpointPresetFromId(e.preset) == EndpointPreset::DeepSeek) {
            p.backend = e.id;
            p.model = QStringLiteral("deepseek-reasoner");
            return p;
        }
    }
    for (const QString & file : localSettings().modelFiles) {
        if (looksLikeReasoningModel(file)) {
            p.model = file;
            return p;
        }
    }
    return p;
}

ModeProfile ProfileStore::profile(ChatMode mode) const {
    QSettings s(m_path, QSettings::IniFormat);
    s.beginGroup(groupOf(mode));
    return readProfile(s, defaultProfile(mode));
}

bool ProfileStore::isCustomised(ChatMode mode) const {
    QSettings s(m_path, QSettings::IniFormat);
    s.beginGroup(groupOf(mode));
    return !s.childKeys().isEmpty();
}

void ProfileStore::setProfile(ChatMode mode, const ModeProfile & profile) {
    {
        QSettings s(m_path, QSettings::IniFormat);
        s.beginGroup(groupOf(mode));
        writeProfile(s, profile);
    }
    emit profileChanged(mode);
}

void ProfileStore::resetProfile(ChatMode mode) {
    {
        QSettings s(m_path, QSettings::IniFormat);
        s.remove(groupOf(mode));
    }
    emit profileChanged(mode);
}

QString ProfileStore::profileNote(ChatMode mode) const {
    const ModeProfile p = profile(mode);
    if (!p.isLocal()) {
        if (!endpoint(p.backend)) {
            return tr("The server this mode used was removed: choose a backend.");
        }
        return {};
    }
    if (mode == ChatMode::Expert && !looksLikeReasoningModel(effectiveModel(p))) {
        return tr("Expert uses the same local model as Fast, with thinking on. For better reasoning add a "
                  "reasoning model (a DeepSeek endpoint, or an R1 distill GGUF) and choose it here.");
    }
    if (!QFileInfo::exists(effectiveModel(p))) {
        return tr("The model file %1 is missing.").arg(QFileInfo(effectiveModel(p)).fileName());
    }
    return {};
}

QString ProfileStore::effectiveModel(const ModeProfile & p) const {
    if (!p.model.isEmpty()) {
        return p.model;
    }
    if (p.isLocal()) {
        return defaultLocalModel();
    }
    const auto e = endpoint(p.backend);
    return e ? e->model : QString();
}

int ProfileStore::autoThreshold() const {
    QSettings s(m_path, QSettings::IniFormat);
    return s.value(QStringLiteral("modes/auto/expertThreshold"), kDefaultAutoThreshold).toInt();
}

void ProfileStore::setAutoThreshold(int threshold) {
    {
        QSettings s(m_path, QSettings::IniFormat);
        s.setValue(QStringLiteral("modes/auto/expertThreshold"), threshold);
    }
    emit autoThresholdChanged(threshold);
}

QVector<RemoteEndpoint> ProfileStore::endpoints() const {
    QSettings s(m_path, QSettings::IniFormat);
    QVector<RemoteEndpoint> out;
    const int n = s.beginReadArray(QStringLiteral("endpoints"));
    for (int i = 0; i < n; ++i) {
        s.setArrayIndex(i);
        RemoteEndpoint e;
        e.id = s.value(QStringLiteral("id")).toString();
        e.name = s.value(QStringLiteral("name")).toString();
        e.preset = s.value(QStringLiteral("preset"), QStringLiteral("custom")).toString();
        e.baseUrl = QUrl(s.value(QStringLiteral("baseUrl")).toString());
        e.model = s.value(QStringLiteral("model")).toString();
        e.acceptsImages = s.value(QStringLiteral("acceptsImages"), false).toBool();
        if (!e.id.isEmpty()) {
            out.push_back(e);
        }
    }
    s.endArray();
    return out;
}

std::optional<RemoteEndpoint> ProfileStore::endpoint(const QString & id) const {
    for (const RemoteEndpoint & e : endpoints()) {
        if (e.id == id) {
            return e;
        }
    }
    return std::nullopt;
}

void ProfileStore::setEndpoints(const QVector<RemoteEndpoint> & endpoints) {
    {
        QSettings s(m_path, QSettings::IniFormat);
        s.remove(QStringLiteral("endpoints"));
        s.beginWriteArray(QStringLiteral("endpoints"), static_cast<int>(endpoints.size()));
        for (int i = 0; i < endpoints.size(); ++i) {
            const RemoteEndpoint & e = endpoints[i];
            s.setArrayIndex(i);
            s.setValue(QStringLiteral("id"), e.id);
            s.setValue(QStringLiteral("name"), e.name);
            s.setValue(QStringLiteral("preset"), e.preset);
            s.setValue(QStringLiteral("baseUrl"), e.baseUrl.toString());
            s.setValue(QStringLiteral("model"), e.model);
            s.setValue(QStringLiteral("acceptsImages"), e.acceptsImages);
        }
        s.endArray();
    }
    emit endpointsChanged();
}

QString ProfileStore::newEndpointId() {
    return QStringLiteral("ep-%1").arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0'));
}

LocalEngineSettings ProfileStore::localSettings() const {
    QSettings s(m_path, QSettings::IniFormat);
    LocalEngineSettings l;
    s.beginGroup(QStringLiteral("local"));
    l.threads = s.value(QStringLiteral("threads"), l.threads).toInt();
    l.device = s.value(QStringLiteral("device"), l.device).toString();
    l.contextSize = s.value(QStringLiteral("contextSize"), l.contextSize).toInt();
    l.defaultModel = s.value(QStringLiteral("defaultModel")).toString();
    l.modelFolders = s.value(QStringLiteral("modelFolders")).toStringList();
    l.modelFiles = s.value(QStringLiteral("modelFiles")).toStringList();
    const bool chosen = s.contains(QStringLiteral("defaultModel"));
    s.endGroup();
    if (!chosen) {
        // The first-run wizard of earlier versions kept its choice here.
        l.defaultModel = s.value(QStringLiteral("setup/modelPath")).toString();
    }
    return l;
}

void ProfileStore::setLocalSettings(const LocalEngineSettings & l) {
    {
        QSettings s(m_path, QSettings::IniFormat);
        s.beginGroup(QStringLiteral("local"));
        s.setValue(QStringLiteral("threads"), l.threads);
        s.setValue(QStringLiteral("device"), l.device);
        s.setValue(QStringLiteral("contextSize"), l.contextSize);
        s.setValue(QStringLiteral("defaultModel"), l.defaultModel);
        s.setValue(QStringLiteral("modelFolders"), l.modelFolders);
        s.setValue(QStringLiteral("modelFiles"), l.modelFiles);
    }
    emit localSettingsChanged();
}

QString ProfileStore::defaultLocalModel() const {
    const QString chosen = localSettings().defaultModel;
    return chosen.isEmpty() ? AppPaths::defaultModelPath() : chosen;
}

} // namespace v4app
