// v4::tokenizer: validation of the vocabulary, added-token splitting, BOS/EOS, decoding, streaming.
// The models themselves live in spm.cpp (SentencePiece-style) and bpe.cpp (byte-level BPE).
#include "v4/tokenizer.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"
#include "v4/error.h"

namespace v4 {

namespace {

[[noreturn]] void fail(ErrorCode code, const std::string & message) {
    throw Error(code, "tokenizer: " + message);
}

// Control tokens that end a turn in the chat formats we know; any the vocabulary defines join the
// end-of-generation set next to the ids the metadata names.
constexpr const char * k_end_of_turn_texts[] = {
    "<end_of_turn>", "<|im_end|>",    "<|eot_id|>",      "<|eom_id|>",        "<|end|>",
    "<|endoftext|>", "<|EOT|>",       "<EOT>",           "<|end_of_text|>",   "<end_of_utterance>",
    "<|return|>",    "<|call|>",      "<｜end▁of▁sentence｜>",
};

// A byte trie over the added tokens, for leftmost-longest matching.
class added_trie {
public:
    void insert(std::string_view text, int32_t id) {
        int node = 0;
        for (char c : text) {
            const uint8_t b  = static_cast<uint8_t>(c);
            int           nx = find_child(node, b);
            if (nx < 0) {
                nx = static_cast<int>(m_nodes.size());
                m_nodes.push_back({});
                m_nodes[node].children.push_back({b, nx});
            }
            node = nx;
        }
        m_nodes[node].token = id;
    }
    // Longest added token starting at text[pos]: {id, length}, or {-1, 0}.
    std::pair<int32_t, size_t> longest(std::string_view text, size_t pos) const {
        std::pair<int32_t, size_t> best{-1, 0};
        int                        node = 0;
        for (size_t i = pos; i < text.size(); ++i) {
            node = find_child(node, static_cast<uint8_t>(text[i]));
            if (node < 0) {
                break;
            }
            if (m_nodes[node].token >= 0) {
                best = {m_nodes[node].token, i + 1 - pos};
            }
        }
        return best;
    }
    bool empty() const { return m_nodes.size() == 1; }

private:
    struct node_t {
        std::vector<std::pair<uint8_t, int>> children;
        int32_t                              token = -1;
    };
    int find_child(int node, uint8_t b) const {
        for (const auto & [byte, child] : m_nodes[node].children) {
            if (byte == b) {
                return child;
            }
        }
        return -1;
    }
    std::vector<node_t> m_nodes{1};
};

int32_t checked_id(const std::optional<int64_t> & id, const char * key, size_t n_vocab) {
    if (!id) {
        return -1;
    }
    if (*id < 0 || static_cast<uint64_t>(*id) >= n_vocab) {
        fail(ErrorCode::format, std::string(key) + " = " + std::to_string(*id) + " is out of range (the vocabulary has " +
                                    std::to_string(n_vocab) + " tokens)");
    }
    return static_cast<int32_t>(*id);
}

} // namespace

struct tokenizer::impl {
    tokenizer_vocab                vocab;
    std::unique_ptr<tok::model_i>  model;
    tok::token_map                 exact; // vocabulary text -> id (first occurrence)
    added_trie                     added;
    std::vector<uint8_t>           added_is_special; // per id: 1 when matched only with parse_special
    std::unordered_set<int32_t>    eog;
    int32_t bos = -1, eos = -1, eot = -1, eom = -1, pad = -1, unk = -1;
    bool    add_bos = false, add_eos = false;

    token_type type_of(int32_t id) const {
        return vocab.types.empty() ? token_type::normal : static_cast<token_type>(vocab.types[id]);
    }
    void check_id(int32_t id) const {
        if (id < 0 || static_cast<size_t>(id) >= vocab.tokens.size()) {
            fail(ErrorCode::invalid_argument, "token id " + std::to_string(id) + " is out of range [0, " +
                                                  std::to_string(vocab.tokens.size()) + ")");
        }
    }
    std::string piece(int32_t id, bool render_special) const {
        check_id(id);
        switch (type_of(id)) {
            case token_type::control:
            case token_type::unknown: return render_special ? vocab.tokens[id] : std::string();
            case token_type::user_defined: return vocab.tokens[id];
            default: return model->piece(id);
        }
    }
    // The piece as it appears in decoded text: the prefix space SentencePiece added is dropped again.
    std::string text_piece(int32_t id, bool render_special, bool first) const {
        std::string p = piece(id, render_special);
        if (first && model->strips_leading_space() && !p.empty() && p[0] == ' ' &&
            type_of(id) == token_type::normal) {
            p.erase(0, 1);
        }
        return p;
    }
};

tokenizer::tokenizer(tokenizer_vocab v) : m_impl(std::make_unique<impl>()) {
    impl & d = *m_impl;
    if (v.model.empty()) {
        fail(ErrorCode::format, "tokenizer.ggml.model is missing");
    }
    if (v.model != "llama" && v.model != "gpt2") {
        fail(ErrorCode::unsupported, "tokenizer.ggml.model '" + v.model +
                                         "' is not supported (expected 'llama' for SentencePiece or 'gpt2' for byte-level BPE)");
    }
    const size_t n = v.tokens.size();
    if (n == 0) {
        fail(ErrorCode::format, "tokenizer.ggml.tokens is empty");
    }
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        fail(ErrorCode::format, "tokenizer.ggml.tokens has " + std::to_string(n) + " entries, more than int32 ids allow");
    }
    if (v.model == "llama" && v.scores.size() != n) {
        fail(ErrorCode::format, v.scores.empty() ? "tokenizer.ggml.scores is missing (required for the 'llama' model)"
                                                 : "tokenizer.ggml.scores has " + std::to_string(v.scores.size()) +
                                                       " entries but tokenizer.ggml.tokens has " + std::to_string(n));
    }
    if (v.model == "gpt2" && !v.scores.empty() && v.scores.size() != n) {
        fail(ErrorCode::format, "tokenizer.ggml.scores has " + std::to_string(v.scores.size()) +
                                    " entries but tokenizer.ggml.tokens has " + std::to_string(n));
    }
    if (!v.types.empty() && v.types.size() != n) {
        fail(ErrorCode::format, "tokenizer.ggml.token_type has " + std::to_string(v.types.size()) +
                                    " entries but tokenizer.ggml.tokens has " + std::to_string(n));
    }
    for (size_t i = 0; i < v.types.size(); ++i) {
        if (v.types[i] < 0 || v.types[i] > static_cast<int32_t>(token_type::byte)) {
            fail(ErrorCode::format, "tokenizer.ggml.token_type[" + std::to_string(i) + "] = " +
                                        std::to_string(v.types[i]) + " is not a token type (expected 0..6)");
        }
    }
    if (v.model == "gpt2" && v.merges.empty()) {
        fail(ErrorCode::format, "tokenizer.ggml.merges is missing (required for the 'gpt2' model)");
    }
    for (size_t i = 0; i < n; ++i) {
        if (v.tokens[i].empty()) {
            fail(ErrorCode::format, "tokenizer.ggml.tokens[" + std::to_string(i) + "] is an empty string");
        }
    }
    d.bos = checked_id(v.bos_id, "tokenizer.ggml.bos_token_id", n);
    d.eos = checked_id(v.eos_id, "tokenizer.ggml.eos_token_id", n);
    d.eot = checked_id(v.eot_id, "tokenizer.ggml.eot_token_id", n);
    d.eom = checked_id(v.eom_id, "tokenizer.ggml.eom_token_id", n);
    d.pad = checked_id(v.pad_id, "tokenizer.ggml.padding_token_id", n);
    d.unk = checked_id(v.unk_id, "tokenizer.ggml.unknown_token_id", n);
    // Defaults where the file is silent, as llama.cpp and the Hugging Face GGUF loader choose them.
    d.add_bos = v.add_bos.value_or(v.model == "llama");
    d.add_eos = v.add_eos.value_or(false);
    if (d.add_bos && d.bos < 0) {
        fail(ErrorCode::format, "tokenizer.ggml.add_bos_token is set but tokenizer.ggml.bos_token_id is missing");
    }
    if (d.add_eos && d.eos < 0) {
        fail(ErrorCode::format, "tokenizer.ggml.add_eos_token is set but tokenizer.ggml.eos_token_id is missing");
    }

    d.vocab = std::move(v);
    d.model = d.vocab.model == "llama" ? tok::make_spm_model(d.vocab) : tok::make_bpe_model(d.vocab);

    d.exact.reserve(n * 2);
    d.added_is_special.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
        const auto         id   = static_cast<int32_t>(i);
        const std::string & t   = d.vocab.tokens[i];
        const token_type    ty  = d.type_of(id);
        d.exact.emplace(t, id);
        // Added tokens, cut out before the model runs: control and unknown ones only on request,
        // user-defined ones always. A SentencePiece run of spaces is not one: it is found by merging.
        const bool named = id == d.bos || id == d.eos || id == d.eot || id == d.eom || id == d.pad || id == d.unk;
        if (ty == token_type::control || ty == token_type::unknown || named) {
            d.added.insert(t, id);
            d.added_is_special[i] = 1;
        } else if (ty == token_type::user_defined && !(d.vocab.model == "llama" && tok::is_space_run(t))) {
            d.added.insert(t, id);
        }
    }
    for (int32_t id : {d.eos, d.eot, d.eom}) {
        if (id >= 0) {
            d.eog.insert(id);
        }
    }
    for (const char * text : k_end_of_turn_texts) {
        const auto it = d.exact.find(std::string_view(text));
        if (it != d.exact.end() && d.type_of(it->second) == token_type::control) {
            d.eog.insert(it->second);
        }
    }
}

tokenizer::tokenizer(tokenizer &&) noexcept             = default;
tokenizer & tokenizer::operator=(tokenizer &&) noexcept = default;
tokenizer::~tokenizer()                                 = default;

std::vector<int32_t> tokenizer::encode(std::string_view raw, bool add_special, bool parse_special) const {
    const impl &         d    = *m_impl;
    const std::string    text = utf8_sanitize(raw);
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 2);
    if (add_special && d.add_bos) {
        out.push_back(d.bos);
    }
    // Leftmost-longest over all added tokens; a control token met while parse_special is off stays text
    // (its span is not searched again for shorter matches, as in the reference).
    size_t fragment = 0;
    const auto flush = [&](size_t end) {
        if (end > fragment) {
            d.model->encode(std::string_view(text).substr(fragment, end - fragment), fragment == 0, out);
        }
    };
    for (size_t pos = 0; pos < text.size();) {
        const auto [id, len] = d.added.longest(text, pos);
        if (id < 0) {
            ++pos;
            continue;
        }
        if (d.added_is_special[id] && !parse_special) {
            pos += len;
            continue;
        }
        flush(pos);
        out.push_back(id);
        pos += len;
        fragment = pos;
    }
    flush(text.size());
    if (add_special && d.add_eos) {
        out.push_back(d.eos);
    }
    return out;
}

std::string tokenizer::token_to_piece(int32_t id, bool render_special) const {
    return m_impl->piece(id, render_special);
}

std::string tokenizer::decode(const std::vector<int32_t> & ids, bool render_special) const {
    std::string out;
    for (size_t i = 0; i < ids.size(); ++i) {
        out += m_impl->text_piece(ids[i], render_special, i == 0);
    }
    return out;
}

int32_t tokenizer::n_vocab() const { return static_cast<int32_t>(m_impl->vocab.tokens.size()); }
int32_t tokenizer::bos() const { return m_impl->bos; }
int32_t tokenizer::eos() const { return m_impl->eos; }
int32_t tokenizer::eot() const { return m_impl->eot; }
int32_t tokenizer::eom() const { return m_impl->eom; }
int32_t tokenizer::pad() const { return m_impl->pad; }
int32_t tokenizer::unk() const { return m_impl->unk; }
bool    tokenizer::add_bos() const { return m_impl->add_bos; }
bool    tokenizer::add_eos() const { return m_impl->add_eos; }
bool    tokenizer::is_eog(int32_t id) const { return m_impl->eog.count(id) != 0; }
bool    tokenizer::is_control(int32_t id) const { return type(id) == token_type::control; }

token_type tokenizer::type(int32_t id) const {
    m_impl->check_id(id);
    return m_impl->type_of(id);
}

const std::string & tokenizer::token_text(int32_t id) const {
    m_impl->check_id(id);
    return m_impl->vocab.tokens[id];
}

std::optional<int32_t> tokenizer::find_token(std::string_view text) const {
    const auto it = m_impl->exact.find(text);
    return it == m_impl->exact.end() ? std::nullopt : std::optional<int32_t>(it->second);
}

const std::string & tokenizer::model() const { return m_impl->vocab.model; }
const std::string & tokenizer::chat_template() const { return m_impl->vocab.chat_template; }

// ---- streaming ----

utf8_stream::utf8_stream(const tokenizer & tok, bool render_special) : m_tok(&tok), m_render_special(render_special) {}

std::string utf8_stream::push(int32_t id) {
    const std::string piece = m_tok->m_impl->text_piece(id, m_render_special, m_first);
    m_first = false;
    return push_bytes(piece);
}

std::string utf8_stream::push_bytes(std::string_view bytes) {
    m_pending.append(bytes);
    std::string out;
    size_t      pos = 0;
    while (pos < m_pending.size()) {
        const tok::utf8_unit u = tok::utf8_next(m_pending, pos);
        if (u.truncated) {
            break; // wait for the rest of the character
        }
        if (u.valid) {
            out.append(m_pending, pos, u.length);
        } else {
            out += tok::replacement_char;
        }
        pos += u.length;
    }
    m_pending.erase(0, pos);
    return out;
}

std::string utf8_stream::finish() {
    std::string out = m_pending.empty() ? std::string() : std::string(tok::replacement_char);
    m_pending.clear();
    m_first = true;
    return out;
}

} // namespace v4
