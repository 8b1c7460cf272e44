#include "v4/chat.h"

#include <chrono>

#include "v4/error.h"
#include "v4/log.h"

namespace v4 {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::vector<int32_t> end_of_generation_tokens(const tokenizer & tok) {
    std::vector<int32_t> ids;
    for (int32_t id = 0; id < tok.n_vocab(); ++id) {
        if (tok.is_eog(id)) {
            ids.push_back(id);
        }
    }
    return ids;
}

// The text a special token stands for, or "" when the vocabulary lacks it.
std::string special_text(const tokenizer & tok, int32_t id) { return id >= 0 ? tok.token_text(id) : std::string(); }

} // namespace

chat_runner::chat_runner(std::shared_ptr<const model> model, const session_params & params)
    : m_model(std::move(model)), m_tokenizer(tokenizer::open(m_model->info().path)),
      m_choice(choose_chat_template(read_model_identity(*m_model), m_tokenizer.chat_template())),
      m_template(chat_template::parse(m_choice.source)), m_session(m_model, params),
      m_eog_tokens(end_of_generation_tokens(m_tokenizer)) {
    if (m_choice.builtin) {
        log().info("{}: chat template: {}", m_model->info().name, m_choice.reason);
    }
}

bool chat_runner::prompt_opens_thinking(std::string_view prompt) { return prompt.ends_with("<think>\n"); }

std::string chat_runner::render_prompt(const chat_request & request) const {
    chat_template_options options;
    options.add_generation_prompt = request.add_generation_prompt;
    options.enable_thinking       = request.enable_thinking;
    options.bos_token             = special_text(m_tokenizer, m_tokenizer.bos());
    options.eos_token             = special_text(m_tokenizer, m_tokenizer.eos());
    return m_template.render(request.messages, options);
}

std::vector<int32_t> chat_runner::tokenize_prompt(const std::string & prompt) const {
    // The template writes the BOS text itself when the model wants one, so don't add another.
    std::vector<int32_t> tokens = m_tokenizer.encode(prompt, /*add_special=*/false, /*parse_special=*/true);
    if (m_tokenizer.add_bos() && m_tokenizer.bos() >= 0 && (tokens.empty() || tokens.front() != m_tokenizer.bos())) {
        tokens.insert(tokens.begin(), m_tokenizer.bos());
    }
    return tokens;
}

chat_result chat_runner::generate(const chat_request & request, const text_callback & on_text,
                                  const std::atomic<bool> * cancel) {
    const auto  start  = clock_type::now();
    chat_result result;

    const std::string          prompt = render_prompt(request);
    const std::vector<int32_t> tokens = tokenize_prompt(prompt);
    result.n_prompt                   = static_cast<uint32_t>(tokens.size());
    result.opened_thinking            = prompt_opens_thinking(prompt);
    if (tokens.size() >= m_session.n_ctx()) {
        throw Error(ErrorCode::context_overflow, "the conversation needs " + std::to_string(tokens.size()) +
                                                     " tokens but the context holds " + std::to_string(m_session.n_ctx()) +
                                                     "; start a new chat or raise the context size");
    }

    const prefill_stats pf  = m_session.prefill(tokens, cancel);
    result.n_reused         = pf.n_reused;
    result.n_evaluated      = pf.n_evaluated;
    result.prefill_seconds  = pf.seconds;

    sampler           smp(request.sampling);
    generation_params gp;
    gp.max_tokens = request.max_tokens;
    gp.stop       = request.stop;
    gp.stop.insert(gp.stop.end(), m_choice.stop.begin(), m_choice.stop.end());
    gp.eog_tokens = m_eog_tokens;
    generation  gen(gp);
    utf8_stream utf8(m_tokenizer, /*render_special=*/false);

    bool at_reply_start = m_choice.reply_after_space && request.add_generation_prompt;
    auto emit = [&](std::string_view text) {
        if (at_reply_start && !text.empty()) {
            at_reply_start = false;
            if (text.front() == ' ') {
                text.remove_prefix(1); // the separator after "Assistant:", not part of the reply
            }
        }
        if (!text.empty()) {
            result.text += text;
            if (on_text) {
                on_text(text);
            }
        }
    };

    clock_type::time_point first_token_at;
    while (true) {
        const int32_t next = m_session.sample(smp); // a CUDA session draws on the device: one id back
        smp.accept(next);
        if (result.n_generated++ == 0) {
            first_token_at      = clock_type::now();
            result.ttft_seconds = seconds_since(start);
        }
        const bool eog = m_tokenizer.is_eog(next);
        emit(gen.push(next, eog ? std::string() : utf8.push(next)));
        if (gen.done()) {
            break;
        }
        if (m_session.n_past() + 1 >= m_session.n_ctx()) {
            result.context_full = true;
            break;
        }
        m_session.decode(next, cancel);
    }
    emit(gen.finish());
    if (gen.reason() != stop_reason::stop_string) {
        emit(utf8.finish()); // an incomplete UTF-8 tail, shown as U+FFFD rather than dropped
    }
    result.reason = gen.reason();
    if (result.n_generated > 1) {
        result.decode_seconds = std::chrono::duration<double>(clock_type::now() - first_token_at).count();
    }
    return result;
}

} // namespace v4
