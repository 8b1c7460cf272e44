// Chat templates for architectures whose GGUF files often ship without tokenizer.chat_template
// (e.g. Gemma 3 270M). Each renders the turn format its model family was trained on; a file's own
// template always wins over these.
#include <string>

#include "v4/chat.h"
#include "v4/error.h"

namespace v4 {

namespace {

// Gemma 2/3 turns: a system message is folded into the first user turn; "assistant" is "model".
constexpr const char * k_gemma_template = R"JINJA({{ bos_token }}
{%- if messages and messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = '' -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif -%}
    {%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}
    {{- message['content'] | trim }}
    {{- '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{ '<start_of_turn>model\n' }}
{%- endif -%})JINJA";

// ChatML, used by Qwen 2/2.5/3 and many fine-tunes.
constexpr const char * k_chatml_template = R"JINJA(
{%- for message in messages -%}
    {{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{ '<|im_start|>assistant\n' }}
{%- endif -%})JINJA";

// Llama 3 header format.
constexpr const char * k_llama3_template = R"JINJA({{ bos_token }}
{%- for message in messages -%}
    {{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif -%})JINJA";

} // namespace

chat_template builtin_chat_template(const std::string & architecture) {
    if (architecture.rfind("gemma", 0) == 0) {
        return chat_template::parse(k_gemma_template);
    }
    if (architecture == "qwen2" || architecture == "qwen3") {
        return chat_template::parse(k_chatml_template);
    }
    if (architecture == "llama") {
        return chat_template::parse(k_llama3_template);
    }
    throw Error(ErrorCode::unsupported, "the model file has no chat template and there is no built-in one for architecture '" +
                                            architecture + "'; use raw prompts");
}

} // namespace v4
