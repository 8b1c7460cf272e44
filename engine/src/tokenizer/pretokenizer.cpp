#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include "v4/error.h"

namespace v4::tok {

namespace {

// The split patterns, as the reference tokenizers spell them.
constexpr const char * k_gpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char * k_llama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2 / Qwen2.5 / Qwen3 and the DeepSeek-R1 Qwen distills: Llama 3's pattern with single digits.
constexpr const char * k_qwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char * k_gpt4o =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Hugging Face's Digits(individual_digits=true): every digit on its own.
constexpr const char * k_digits = R"(\p{N})";

// A pre-tokenizer is a sequence of split stages (Hugging Face's pre_tokenizers.Sequence): each stage
// splits every word the previous one produced. Most are one regex; SmolLM puts Digits before the
// GPT-2 byte-level split.
constexpr size_t k_max_stages = 2;
struct pre_entry {
    const char * name;
    const char * stages[k_max_stages]; // unused trailing stages are nullptr
};
constexpr pre_entry k_pre_table[] = {
    {"default", {k_gpt2}},        {"gpt2", {k_gpt2}},          {"gpt-2", {k_gpt2}},
    {"llama-bpe", {k_llama3}},    {"llama3", {k_llama3}},      {"llama-v3", {k_llama3}},
    {"smaug-bpe", {k_llama3}},    {"dbrx", {k_llama3}},        {"falcon3", {k_llama3}},
    {"qwen2", {k_qwen2}},         {"deepseek-r1-qwen", {k_qwen2}}, {"megrez", {k_qwen2}},
    {"gpt-4o", {k_gpt4o}},        {"llama4", {k_gpt4o}},
    {"smollm", {k_digits, k_gpt2}},
};

struct code_deleter {
    void operator()(pcre2_code * code) const { pcre2_code_free(code); }
};
using code_ptr = std::unique_ptr<pcre2_code, code_deleter>;

code_ptr compile_stage(const std::string & name, const char * pattern) {
    int        err_code   = 0;
    PCRE2_SIZE err_offset = 0;
    code_ptr   code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                                  PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err_code, &err_offset, nullptr));
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err_code, msg, sizeof(msg));
        throw Error(ErrorCode::internal, "tokenizer: pre-tokenizer '" + name + "' regex does not compile at offset " +
                                             std::to_string(err_offset) + ": " + reinterpret_cast<const char *>(msg));
    }
    pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE); // optional speed-up; the interpreter is the fallback
    return code;
}

// One stage, "isolated": the matches and the gaps between them are all words.
void split_stage(const pcre2_code * code, pcre2_match_data * md, std::string_view text,
                 std::vector<std::string_view> & words) {
    const auto * subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t       pos = 0, gap_start = 0;
    while (pos < text.size()) {
        int rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
            // The JIT's fixed stack can run out on long runs (a megabyte of spaces); the interpreter
            // keeps its backtracking state on the heap.
            rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
        }
        if (rc == PCRE2_ERROR_NOMATCH) {
            break; // the rest is one gap
        }
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof(msg));
            throw Error(ErrorCode::internal, std::string("tokenizer: pre-tokenizer regex failed at byte ") +
                                                 std::to_string(pos) + ": " + reinterpret_cast<const char *>(msg));
        }
        const PCRE2_SIZE * ov = pcre2_get_ovector_pointer(md);
        if (ov[1] == ov[0]) { // an empty match: step over one character
            pos = ov[0] + 1;
            while (pos < text.size() && (static_cast<uint8_t>(text[pos]) & 0xC0) == 0x80) {
                ++pos;
            }
            continue;
        }
        if (ov[0] > gap_start) {
            words.push_back(text.substr(gap_start, ov[0] - gap_start));
        }
        words.push_back(text.substr(ov[0], ov[1] - ov[0]));
        pos = gap_start = ov[1];
    }
    if (gap_start < text.size()) {
        words.push_back(text.substr(gap_start));
    }
}

} // namespace

struct pretokenizer::impl {
    std::vector<code_ptr> stages;
};

pretokenizer::pretokenizer(const std::string & pre_name) : m_impl(std::make_unique<impl>()) {
    const std::string  name  = pre_name.empty() ? "default" : pre_name;
    const pre_entry *  entry = nullptr;
    for (const pre_entry & e : k_pre_table) {
        if (name == e.name) {
            entry = &e;
        }
    }
    if (entry == nullptr) {
        std::string known;
        for (const pre_entry & e : k_pre_table) {
            known += known.empty() ? "" : ", ";
            known += e.name;
        }
        throw Error(ErrorCode::unsupported,
                    "tokenizer: tokenizer.ggml.pre '" + name + "' is not a supported pre-tokenizer (known: " + known + ")");
    }
    for (const char * pattern : entry->stages) {
        if (pattern != nullptr) {
            m_impl->stages.push_back(compile_stage(name, pattern));
        }
    }
}

pretokenizer::~pretokenizer() = default;

void pretokenizer::split(std::string_view text, std::vector<std::string_view> & words) const {
    const std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> owner(
        pcre2_match_data_create(1, nullptr), &pcre2_match_data_free); // the patterns use no capture groups
    pcre2_match_data * md = owner.get();
    if (md == nullptr) {
        throw Error(ErrorCode::out_of_memory, "tokenizer: cannot allocate PCRE2 match data");
    }
    std::vector<std::string_view> pieces{text}, next;
    for (size_t s = 0; s < m_impl->stages.size(); ++s) {
        std::vector<std::string_view> & out = s + 1 == m_impl->stages.size() ? words : next;
        for (const std::string_view piece : pieces) {
            split_stage(m_impl->stages[s].get(), md, piece, out);
        }
        pieces.swap(next);
        next.clear();
    }
}

} // namespace v4::tok
