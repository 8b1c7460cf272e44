// EndpointPresets: what differs between OpenAI-compatible servers, in one table, so that
// RemoteBackend itself speaks plain OpenAI. Per preset: default base URL and model, which sampling
// fields the server accepts, how thinking is switched on and off per request, and whether earlier
// reasoning is sent back. Sources for every field are in docs/notes-remote.md.
//
//   Preset    thinking switch (per request)                               sampling sent
//   DeepSeek  model deepseek-reasoner / deepseek-chat; other models:       temperature, top_p
//             "thinking": {"type": "enabled" | "disabled"}                 (only when not thinking)
//   OpenAI    "reasoning_effort": "high" | "low" on o1/o3/o4/gpt-5 models   temperature, top_p, seed
//                                                                         (not on reasoning models)
//   vLLM      "chat_template_kwargs": {"enable_thinking": b, "thinking": b} + top_k, min_p,
//   SGLang    (Qwen3 templates read enable_thinking, DeepSeek-V3.x thinking) repetition_penalty
//   llama.cpp "chat_template_kwargs": {"enable_thinking": b},                + top_k, min_p,
//             "reasoning_format": "deepseek" (reasoning in reasoning_content) repeat_penalty
//   Custom    nothing (use extraBody)                                      temperature, top_p, seed
//
// Every body asks for "stream": true and "stream_options": {"include_usage": true}.
#pragma once

#include "backends/ChatBackend.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QUrl>

namespace v4app {

enum class EndpointPreset { Custom, OpenAI, DeepSeek, VLLM, SGLang, LlamaCpp };

struct EndpointPresetInfo {
    EndpointPreset preset = EndpointPreset::Custom;
    QString        id;            // stable key for settings: "custom", "openai", "deepseek", ...
    QString        displayName;
    QUrl           defaultBaseUrl;
    QString        defaultModel;
    bool           needsApiKey = false;
};

const QList<EndpointPresetInfo> & endpointPresets();
EndpointPresetInfo                endpointPresetInfo(EndpointPreset preset);
EndpointPreset                    endpointPresetFromId(const QString & id); // unknown -> Custom

struct ChatBodyOptions {
    bool        sendReasoningBack = false; // add "reasoning_content" to earlier assistant turns
    QJsonObject extraBody;                 // merged last: overrides any field built here
};

// The model actually asked for. DeepSeek's legacy names pick the mode: with thinking on,
// "deepseek-chat" becomes "deepseek-reasoner" and the other way round. Other presets: unchanged.
QString resolveModel(EndpointPreset preset, const QString & model, bool thinking);

// True where the provider wants earlier reasoning back in assistant messages. No built-in preset
// does for plain chat (DeepSeek wants it only after tool calls, which V4 Chat doesn't make).
bool presetPassesReasoningBack(EndpointPreset preset);

// True for OpenAI model names that take reasoning_effort (o1, o3, o4-mini, gpt-5, ...).
bool isOpenAiReasoningModel(const QString & model);

// The JSON body of POST /v1/chat/completions for this preset. model should already be resolved.
QJsonObject buildChatCompletionBody(EndpointPreset preset, const ChatRequest & request, const QString & model,
                                    const ChatBodyOptions & options = {});

} // namespace v4app
