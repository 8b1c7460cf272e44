// A mode (Fast, Expert) is a profile: which backend answers (the local engine or a remote
// endpoint), which model, how it samples, whether it thinks and how many tokens it may spend.
// Auto has no profile of its own: the Router picks Fast or Expert for each message.
//
//     ChatRequest request;
//     request.messages = history;
//     applyProfile(store.profile(ChatMode::Expert), request); // sampling, thinking, budgets, system prompt
#pragma once

#include <QString>
#include <QUrl>

#include "backends/ChatBackend.h"

namespace v4app {

inline const QString kLocalBackendId = QStringLiteral("local");

struct ModeProfile {
    QString          backend = kLocalBackendId; // "local" or the id of a RemoteEndpoint
    QString          model;          // local: GGUF path (empty: the default model); remote: model id (empty: the endpoint's)
    SamplingSettings sampling;
    bool             thinking = false;
    int              maxTokens = 2048;    // the answer
    int              thinkingBudget = 0;  // extra tokens for reasoning when thinking is on
    QString          systemPrompt;

    bool isLocal() const { return backend == kLocalBackendId; }
    bool operator==(const ModeProfile & other) const; // SamplingSettings has no operator== of its own
};

// An OpenAI-compatible server the user added. The API key is not here: it lives in EndpointKeys
// under the endpoint's id.
struct RemoteEndpoint {
    QString id;        // stable, generated once ("ep-<random>"); also the key's name
    QString name;      // shown to the user
    QString preset;    // EndpointPresetInfo::id ("deepseek", "vllm", ...)
    QUrl    baseUrl;
    QString model;     // default model for this endpoint
    bool    acceptsImages = false;

    bool operator==(const RemoteEndpoint &) const = default;
};

// Sampling, thinking, token budgets and the system prompt of `profile` applied to `request`
// (its messages are kept; the system prompt goes first unless the request already has one).
void applyProfile(const ModeProfile & profile, ChatRequest & request);

// Problems that make a profile unusable, for people ("Temperature must be between 0 and 2.");
// empty when it is fine. `endpointExists` says whether profile.backend names a known endpoint.
QStringList validateProfile(const ModeProfile & profile, bool endpointExists);
QStringList validateEndpoint(const RemoteEndpoint & endpoint);

} // namespace v4app
