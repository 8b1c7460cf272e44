// v4::chat_template: renders a model file's own `tokenizer.chat_template` (a Jinja template) into the prompt text,
// byte for byte as Hugging Face transformers' apply_chat_template would.
//
// The interpreter is a sandboxed Jinja subset written for chat templates: no file or OS access, output capped at
// 16 MiB, loops and macro recursion bounded. Syntax outside the subset is rejected by parse() with
// v4::Error(ErrorCode::unsupported) naming the construct, e.g.
//   "chat template line 3, col 14: unsupported filter 'wordcount'".
// Malformed templates throw ErrorCode::format; failures while rendering (raise_exception(), type errors, limits)
// throw ErrorCode::invalid_argument, all with the line and column in the template.
//
// Thread safety: a parsed chat_template is immutable; render() may be called from several threads at once.
//
// Usage:
//   v4::chat_template tmpl = v4::chat_template::parse(gguf_metadata_string("tokenizer.chat_template"));
//   v4::chat_template_options opts;
//   opts.bos_token = "<bos>";
//   if (tmpl.supports_thinking_switch()) {
//       opts.enable_thinking = false;
//   }
//   std::vector<v4::chat_message> chat = {{"system", "Be brief.", ""}, {"user", "Hi!", ""}};
//   std::string prompt = tmpl.render(chat, opts); // tokenize with parse_special = true
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace v4 {

namespace jinja {
struct program;
}

struct chat_message {
    std::string role;              // "system", "user", "assistant", "tool"
    std::string content;
    std::string reasoning_content; // the assistant's thinking; empty = the message has none (key absent)
};

// A template variable beyond the standard ones, e.g. {"date_string", "26 Jul 2024"} for Llama 3.1.
using chat_template_variable = std::variant<bool, int64_t, double, std::string>;

struct chat_template_options {
    bool add_generation_prompt = true;
    std::optional<bool> enable_thinking; // unset = the variable is undefined, as when transformers is not given it
    std::string bos_token;
    std::string eos_token;
    std::map<std::string, chat_template_variable> extra;
};

class chat_template {
public:
    // Parses and checks the whole template; throws v4::Error on unsupported or malformed syntax.
    static chat_template parse(std::string source);

    // Renders the conversation. Variables: messages, add_generation_prompt, bos_token, eos_token,
    // enable_thinking (when set), tools = none, documents = none, and options.extra.
    std::string render(const std::vector<chat_message> & messages, const chat_template_options & options) const;

    // The template reads `enable_thinking`, so the caller can switch reasoning on and off.
    bool supports_thinking_switch() const;
    // A system message renders (the template neither rejects nor drops it).
    bool supports_system_role() const;

    const std::string & source() const { return m_source; }

private:
    chat_template() = default;

    std::string m_source;
    std::shared_ptr<const jinja::program> m_program;
    bool m_thinking_switch = false;
    bool m_system_role = false;
};

} // namespace v4
