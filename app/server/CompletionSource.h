// CompletionSource: what the server's workers generate with. The real one wraps a v4::chat_runner
// (one per worker, all sharing the model's weights); tests give the server a fake, so the HTTP
// layer, the queue and every bad-request path run without a model file.
//
// Thread contract: a source is used by one worker thread at a time; modelId() is called from the
// server's thread and must not change after construction.
#pragma once

#include <QString>

#include <atomic>
#include <memory>

#include "v4/chat.h"

namespace v4app {

class CompletionSource {
public:
    virtual ~CompletionSource() = default;

    virtual QString modelId() const = 0;

    // True when the rendered prompt already opens a <think> block (the reply starts as reasoning).
    virtual bool promptOpensThinking(const v4::chat_request & request) = 0;

    // Same contract as v4::chat_runner::generate: throws v4::Error (cancelled, context_overflow, ...).
    virtual v4::chat_result generate(const v4::chat_request & request, const v4::text_callback & onText,
                                     const std::atomic<bool> * cancel) = 0;
};

// The engine-backed source. modelId is what /v1/models lists and what requests may name.
class ChatRunnerSource final : public CompletionSource {
public:
    ChatRunnerSource(std::shared_ptr<const v4::model> model, const v4::session_params & params, QString modelId);

    QString         modelId() const override { return m_modelId; }
    bool            promptOpensThinking(const v4::chat_request & request) override;
    v4::chat_result generate(const v4::chat_request & request, const v4::text_callback & onText,
                             const std::atomic<bool> * cancel) override;

private:
    v4::chat_runner m_runner;
    QString         m_modelId;
};

} // namespace v4app
