#include "server/CompletionSource.h"

namespace v4app {

ChatRunnerSource::ChatRunnerSource(std::shared_ptr<const v4::model> model, const v4::session_params & params,
                                   QString modelId)
    : m_runner(std::move(model), params), m_modelId(std::move(modelId)) {}

bool ChatRunnerSource::promptOpensThinking(const v4::chat_request & request) {
    return m_runner.prompt_opens_thinking(request);
}

v4::chat_result ChatRunnerSource::generate(const v4::chat_request & request, const v4::text_callback & onText,
                                           const std::atomic<bool> * cancel) {
    return m_runner.generate(request, onText, cancel);
}

} // namespace v4app
