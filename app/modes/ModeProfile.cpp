#include "modes/ModeProfile.h"

namespace v4app {

bool ModeProfile::operator==(const ModeProfile & o) const {
    const SamplingSettings & a = sampling;
    const SamplingSettings & b = o.sampling;
    const bool sameSampling = a.temperature == b.temperature && a.topK == b.topK && a.topP == b.topP && a.minP == b.minP &&
                              a.repetitionPenalty == b.repetitionPenalty && a.seed == b.seed;
    return sameSampling && backend == o.backend && model == o.model && thinking == o.thinking && maxTokens == o.maxTokens &&
           thinkingBudget == o.thinkingBudget && systemPrompt == o.systemPrompt;
}

void applyProfile(const ModeProfile & profile, ChatRequest & request) {
    request.sampling = profile.sampling;
    request.thinking = profile.thinking;
    request.maxTokens = profile.maxTokens + (profile.thinking ? profile.thinkingBudget : 0);
    if (!profile.model.isEmpty()) {
        request.model = profile.model;
    }
    const bool hasSystem = !request.messages.isEmpty() && request.messages.first().role == QLatin1String("system");
    if (!profile.systemPrompt.trimmed().isEmpty() && !hasSystem) {
        request.messages.prepend(ChatMessage{QStringLiteral("system"), profile.systemPrompt.trimmed(), {}, {}});
    }
}

QStringList validateProfile(const ModeProfile & p, bool endpointExists) {
    QStringList problems;
    if (!p.isLocal() && !endpointExists) {
        problems << QObject::tr("The server this mode uses no longer exists; choose another backend.");
    }
    const SamplingSettings & s = p.sampling;
    if (s.temperature < 0 || s.temperature > 2) problems << QObject::tr("Temperature must be between 0 and 2.");
    if (s.topP <= 0 || s.topP > 1) problems << QObject::tr("Top-p must be above 0 and at most 1.");
    if (s.topK < 0) problems << QObject::tr("Top-k must be 0 (off) or more.");
    if (s.minP < 0 || s.minP >= 1) problems << QObject::tr("Min-p must be at least 0 and below 1.");
    if (s.repetitionPenalty < 0.5 || s.repetitionPenalty > 2) problems << QObject::tr("Repeat penalty must be between 0.5 and 2.");
    if (p.maxTokens < 16) problems << QObject::tr("Max tokens must be at least 16.");
    if (p.thinkingBudget < 0) problems << QObject::tr("The thinking budget cannot be negative.");
    return problems;
}

QStringList validateEndpoint(const RemoteEndpoint & e) {
    QStringList problems;
    if (e.name.trimmed().isEmpty()) problems << QObject::tr("Give the server a name.");
    const QString scheme = e.baseUrl.scheme();
    if (!e.baseUrl.isValid() || e.baseUrl.host().isEmpty() || (scheme != QLatin1String("http") && scheme != QLatin1String("https"))) {
        problems << QObject::tr("The address must be an http:// or https:// URL, e.g. https://api.deepseek.com");
    }
    return problems;
}

} // namespace v4app
