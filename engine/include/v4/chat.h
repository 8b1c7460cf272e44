// v4::chat_runner: everything needed to chat with one model file, in one place, for every host
// (the desktop app's LocalBackend, `v4 run`/`v4 chat`, `v4 serve`): the file's tokenizer, its chat
// template (or a built-in one when the file has none: see choose_chat_template), a session whose KV
// cache is reused across turns, and the sampler.
//
//   auto model = v4::model::load(path);
//   v4::chat_runner chat(model, {.n_ctx = 8192});
//   v4::chat_request req;
//   req.messages = {{"user", "What is the capital of France?", ""}};
//   v4::chat_result r = chat.generate(req, [](std::string_view piece) { std::cout << piece; }, &cancel);
//
// Turn two re-renders the whole conversation; the session keeps the common token prefix, so only
// the new tokens are prefilled (chat_result::n_reused says how many were kept).
// Not thread-safe: use a chat_runner from one thread at a time (the cancel flag excepted).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "v4/chat_template.h"
#include "v4/model.h"
#include "v4/sampler.h"
#include "v4/session.h"
#include "v4/tokenizer.h"

namespace v4 {

// What a model file says about itself, for choosing a template (GGUF general.* keys; "" when absent).
struct model_identity {
    std::string architecture;
    std::string name;      // general.name
    std::string finetune;  // general.finetune ("it", "Instruct", ...)
    std::string basename;  // general.basename
    std::string file_name; // the file's name without its folder
};
model_identity read_model_identity(const model & m);

// The chat template a conversation with a model uses, and why (`v4 inspect` shows `reason`).
struct chat_template_choice {
    std::string              source;                    // Jinja text
    std::vector<std::string> stop;                      // stop strings that end the reply's turn
    bool                     builtin = false;
    bool                     reply_after_space = false; // the reply's first space separates it from the prompt
    std::string              reason;
};

// The rule, in order:
//  1. the file's own tokenizer.chat_template;
//  2. instruction-tuned (a word it, instruct, instruction, chat, sft, dpo or rlhf in general.finetune,
//     general.name, general.basename or the file name): the built-in turn format of the architecture
//     (Gemma, ChatML for qwen2/qwen3, Llama 3); throws v4::Error (unsupported) when there is none;
//  3. otherwise a base model: a "User: ...\nAssistant:" transcript with stop strings "\nUser:" and
//     "\nAssistant:", which base models continue sensibly for any architecture.
chat_template_choice choose_chat_template(const model_identity & id, const std::string & file_template);

struct chat_request {
    std::vector<chat_message> messages;
    std::optional<bool>       enable_thinking;   // passed to templates that have the switch
    bool                      add_generation_prompt = true;
    sampler_params            sampling = sampler_default_params();
    int32_t                   max_tokens = -1;   // < 0: until end of generation or the context is full
    std::vector<std::string>  stop;
};

struct chat_result {
    std::string text;                 // everything shown to on_text, concatenated
    uint32_t    n_prompt = 0;         // tokens of the rendered prompt
    uint32_t    n_reused = 0;         // of those, kept from the previous turn's cache
    uint32_t    n_evaluated = 0;      // of those, run through the model now
    uint32_t    n_generated = 0;      // tokens sampled (end-of-generation token included)
    double      prefill_seconds = 0;
    double      ttft_seconds = 0;     // from generate() until the first token was sampled
    double      decode_seconds = 0;   // after the first token
    stop_reason reason = stop_reason::none;
    bool        context_full = false; // stopped because the session had no room left
    bool        opened_thinking = false; // the prompt itself opened a <think> block
};

// Receives decoded text as it is produced: complete UTF-8, stop strings withheld.
using text_callback = std::function<void(std::string_view piece)>;

class chat_runner {
public:
    chat_runner(std::shared_ptr<const model> model, const session_params & params = {});

    const tokenizer &     get_tokenizer() const { return m_tokenizer; }
    const chat_template & get_template() const { return m_template; }
    const chat_template_choice & template_choice() const { return m_choice; }
    bool                  template_is_builtin() const { return m_choice.builtin; }
    session &             get_session() { return m_session; }
    const model &         get_model() const { return *m_model; }

    std::string          render_prompt(const chat_request & request) const;
    // True when the prompt ends inside a <think> block the template opened (DeepSeek-R1 distills):
    // the reply then starts as reasoning. The one rule every host splits replies by.
    static bool          prompt_opens_thinking(std::string_view prompt);
    bool                 prompt_opens_thinking(const chat_request & request) const {
        return prompt_opens_thinking(render_prompt(request));
    }
    std::vector<int32_t> tokenize_prompt(const std::string & prompt) const;

    // Throws v4::Error: context_overflow (prompt longer than the context), cancelled, and errors
    // from the template (e.g. raise_exception for roles out of order).
    chat_result generate(const chat_request & request, const text_callback & on_text,
                         const std::atomic<bool> * cancel = nullptr);

private:
    std::shared_ptr<const model> m_model;
    tokenizer                    m_tokenizer;
    chat_template_choice         m_choice;
    chat_template                m_template;
    session                      m_session;
    std::vector<int32_t>         m_eog_tokens;
};

// The built-in turn format of an instruction-tuned architecture; throws v4::Error (unsupported)
// naming the architecture when there is none.
chat_template builtin_chat_template(const std::string & architecture);

} // namespace v4
