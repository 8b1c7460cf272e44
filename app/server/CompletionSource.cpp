#include "server/CompletionSource.h"

namespace v4app {

ChatRunnerSource::ChatRunnerSource(std::shared_ptr<const v4::model> model, const v4::session_params & params,
                                   QString modelId)
    : m_runner(std::move(model), params), m_modelId(std::move(modelId)) {}

bool ChatRunnerSource::promptOpensThinking(const v4::chat_request & request) {
    // The same test LocalBackend uses: templates that force reasoning end the prompt with "<think>\n".
    return m_runner.render_prompt(request).ends_with("<think>\n");
}

v4::chat_result ChatRunnerSource::generate(const v4::chat_request & request, const v4::text_callback & onText,
                                           const std::atomic<bool> * cancel) {
    return m_runner.generate(request, onText, cancel);
}

} // namespace v4app
