#include "v4/chat_template.h"

#include "tokenizer/jinja_eval.h"
#include "tokenizer/jinja_parser.h"
#include "v4/error.h"

#include <algorithm>

namespace v4 {

namespace {

jinja::value to_value(const chat_template_variable & v) {
    return std::visit([](const auto & x) { return jinja::value(x); }, v);
}

// The message dicts transformers builds: reasoning is aliased to `thinking` (first) and `reasoning_content`.
jinja::value make_messages(const std::vector<chat_message> & messages) {
    jinja::value_list list;
    for (const auto & m : messages) {
        jinja::value d = jinja::value::make_dict();
        if (!m.reasoning_content.empty()) {
            d.dict().set("thinking", jinja::value(m.reasoning_content));
        }
        d.dict().set("role", jinja::value(m.role));
        d.dict().set("content", jinja::value(m.content));
        if (!m.reasoning_content.empty()) {
            d.dict().set("reasoning_content", jinja::value(m.reasoning_content));
        }
        list.push_back(std::move(d));
    }
    return jinja::value::make_list(std::move(list));
}

} // namespace

chat_template chat_template::parse(std::string source) {
    chat_template t;
    t.m_program = jinja::parse_template(source);
    t.m_source = std::move(source);
    const auto & names = t.m_program->names;
    t.m_thinking_switch = std::find(names.begin(), names.end(), "enable_thinking") != names.end();

    // Probe the system role: it is supported when a system message renders without error and its text shows up.
    static const std::string marker = "v4-system-probe-7f3a";
    try {
        chat_template_options opts;
        const std::string out = t.render({{"system", marker, ""}, {"user", "hi", ""}}, opts);
        t.m_system_role = out.find(marker) != std::string::npos;
    } catch (const Error &) {
        t.m_system_role = false;
    }
    return t;
}

std::string chat_template::render(const std::vector<chat_message> & messages,
                                  const chat_template_options & options) const {
    jinja::variables vars;
    vars["messages"] = make_messages(messages);
    vars["add_generation_prompt"] = jinja::value(options.add_generation_prompt);
    vars["bos_token"] = jinja::value(options.bos_token);
    vars["eos_token"] = jinja::value(options.eos_token);
    vars["tools"] = jinja::value::none();
    vars["documents"] = jinja::value::none();
    if (options.enable_thinking) {
        vars["enable_thinking"] = jinja::value(*options.enable_thinking);
    }
    for (const auto & [name, v] : options.extra) {
        vars[name] = to_value(v);
    }
    return jinja::render_program(*m_program, vars);
}

bool chat_template::supports_thinking_switch() const {
    return m_thinking_switch;
}

bool chat_template::supports_system_role() const {
    return m_system_role;
}

} // namespace v4
