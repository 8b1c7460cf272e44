// Which chat template a model file is used with. A file's own tokenizer.chat_template always wins.
// Files without one (e.g. Gemma 3 270M) get a built-in template: instruction-tuned models the turn
// format their family was trained on; base models a plain "User: / Assistant:" transcript, because a
// base model never learned the control tokens of a turn format (Gemma 3 270M base babbles after
// "<start_of_turn>model") but continues a transcript sensibly and then starts the next "User:" line,
// which the transcript's stop strings cut off.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>

#include "models/model_impl.h"
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

// A transcript for base models: an optional system line, then "User: ..." / "Assistant: ..." lines, and
// "Assistant:" for the model to continue. No space after the colon: SentencePiece and byte-level BPE
// vocabularies attach a space to the following word, so the model writes " Paris" itself.
constexpr const char * k_transcript_template = R"JINJA({%- for message in messages -%}
    {%- if message['role'] == 'system' -%}
        {{ message['content'] | trim + '\n\n' }}
    {%- elif message['role'] == 'user' -%}
        {{ 'User: ' + message['content'] | trim + '\n' }}
    {%- elif message['role'] == 'assistant' -%}
        {{ 'Assistant: ' + message['content'] | trim + '\n' }}
    {%- else -%}
        {{ message['role'] | capitalize + ': ' + message['content'] | trim + '\n' }}
    {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{ 'Assistant:' }}
{%- endif -%})JINJA";

// ChatML, used by Qwen 2/2.5/3 and many fine-tunes.
constexpr const char * k_chatml_template = R"JINJA({%- for message in messages -%}
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

// Words that mark an instruction-tuned model in a name ("gemma-3-270m-it", "Qwen2.5-7B-Instruct").
constexpr std::array<std::string_view, 7> k_instruct_words = {"it", "instruct", "instruction", "chat", "sft", "dpo", "rlhf"};

// The lower-case words of `text` that mark instruction tuning, or "" when none does.
std::string instruct_word(std::string_view text) {
    std::string word;
    for (size_t i = 0; i <= text.size(); ++i) {
        const unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
        if (std::isalnum(c)) {
            word += static_cast<char>(std::tolower(c));
            continue;
        }
        if (std::find(k_instruct_words.begin(), k_instruct_words.end(), word) != k_instruct_words.end()) {
            return word;
        }
        word.clear();
    }
    return {};
}

std::string file_name_of(const std::string & path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

model_identity read_model_identity(const model & m) {
    const gguf::file & f = m.impl().file;
    model_identity     id;
    id.architecture = m.info().architecture;
    id.name         = f.get_string_opt("general.name").value_or("");
    id.finetune     = f.get_string_opt("general.finetune").value_or("");
    id.basename     = f.get_string_opt("general.basename").value_or("");
    id.file_name    = file_name_of(m.info().path);
    return id;
}

chat_template_choice choose_chat_template(const model_identity & id, const std::string & file_template) {
    chat_template_choice choice;
    if (!file_template.empty()) {
        choice.source = file_template;
        choice.reason = "from the file (tokenizer.chat_template)";
        return choice;
    }
    choice.builtin = true;
    const std::pair<const char *, const std::string *> fields[] = {
        {"general.finetune", &id.finetune}, {"general.name", &id.name}, {"general.basename", &id.basename}, {"file name", &id.file_name}};
    for (const auto & [field, value] : fields) {
        if (const std::string word = instruct_word(*value); !word.empty()) {
            choice.source = builtin_chat_template(id.architecture).source();
            choice.reason = "built-in " + id.architecture + " turn format: the file has no template, and its " + field + " '" +
                            *value + "' says instruction-tuned ('" + word + "')";
            return choice;
        }
    }
    choice.source            = k_transcript_template;
    choice.stop              = {"\nUser:", "\nAssistant:"};
    choice.reply_after_space = true;
    std::string looked_at;
    for (const auto & [field, value] : fields) {
        looked_at += (looked_at.empty() ? "" : ", ") + std::string(field) + (value->empty() ? " (absent)" : " '" + *value + "'");
    }
    choice.reason = "built-in User:/Assistant: transcript: the file has no template and is a base model (none of " + looked_at +
                    " says it/instruct/chat/sft/dpo/rlhf)";
    return choice;
}

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
