// SentencePiece-style tokenizer ("llama" in GGUF): Gemma, Llama 2.
//
// Spaces become U+2581 and the whole fragment is one word. Every character starts as one symbol (or as
// <0xXX> byte tokens when the vocabulary lacks it); then adjacent symbols whose concatenation is a token
// merge, best merge first, until none is left. This is llama.cpp's llm_tokenizer_spm, with the merge order
// Hugging Face derives for these vocabularies (generate_merges): by the merged token's score, then by the
// longer left part, then the longer right part, then the lower id; ties at the same rank go left first.
// The Gemma family ranks by vocabulary position instead of score, as Hugging Face does: Gemma's scores
// put its control and whitespace tokens last although they are the first merges.
#include <queue>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"
#include "v4/error.h"

namespace v4::tok {

bool is_space_run(std::string_view token) {
    return !token.empty() && token.find_first_not_of(' ') == std::string_view::npos;
}

flat_token_map::flat_token_map(const std::vector<std::string> & keys) : m_keys(&keys) {
    size_t cap = 16;
    while (cap < keys.size() * 2) {
        cap *= 2;
    }
    m_slots.resize(cap);
    m_mask = cap - 1;
    for (size_t i = 0; i < keys.size(); ++i) {
        const uint64_t h = std::hash<std::string_view>{}(keys[i]);
        for (uint64_t p = h & m_mask;; p = (p + 1) & m_mask) {
            slot & s = m_slots[p];
            if (s.id < 0 || (s.hash == h && keys[s.id] == keys[i])) {
                s = {h, static_cast<int32_t>(i)};
                break;
            }
        }
    }
}

int32_t flat_token_map::find(std::string_view text) const {
    const uint64_t h = std::hash<std::string_view>{}(text);
    for (uint64_t p = h & m_mask;; p = (p + 1) & m_mask) {
        const slot & s = m_slots[p];
        if (s.id < 0) {
            return -1;
        }
        if (s.hash == h && (*m_keys)[s.id] == text) {
            return s.id;
        }
    }
}

namespace {

constexpr std::string_view k_space_mark = "\xE2\x96\x81"; // U+2581

class spm_model final : public model_i {
public:
    explicit spm_model(const tokenizer_vocab & v)
        : m_add_space_prefix(v.add_space_prefix.value_or(true)), m_keys(lookup_keys(v.tokens)), m_lookup(m_keys) {
        const size_t n       = v.tokens.size();
        const bool   by_rank = v.architecture.rfind("gemma", 0) == 0;
        m_score.resize(n);
        m_chars.resize(n);
        m_pieces.resize(n);
        for (size_t i = 0; i < n; ++i) {
            const std::string & key = m_keys[i];
            m_score[i] = by_rank ? -static_cast<float>(i) : v.scores[i];
            m_chars[i] = static_cast<int32_t>(utf8_length(key));

            // Piece: U+2581 -> space, <0xXX> byte tokens -> that byte.
            const std::string & t = v.tokens[i];
            const int32_t type = v.types.empty() ? 1 : v.types[i];
            unsigned byte = 0;
            if (type == static_cast<int32_t>(token_type::byte) && t.size() == 6 &&
                std::sscanf(t.c_str(), "<0x%02X>", &byte) == 1) {
                m_pieces[i] = std::string(1, static_cast<char>(byte));
            } else {
                std::string p;
                for (size_t pos = 0; pos < t.size();) {
                    if (t.compare(pos, 3, k_space_mark) == 0) {
                        p += ' ';
                        pos += 3;
                    } else {
                        p += t[pos++];
                    }
                }
                m_pieces[i] = std::move(p);
            }
        }
        char name[8];
        for (int b = 0; b < 256; ++b) {
            std::snprintf(name, sizeof(name), "<0x%02X>", b);
            m_byte_token[b] = m_lookup.find(name);
        }
        m_unk = v.unk_id ? static_cast<int32_t>(*v.unk_id) : -1;
    }

    std::string piece(int32_t id) const override { return m_pieces[id]; }
    bool        strips_leading_space() const override { return m_add_space_prefix; }

    void encode(std::string_view text, bool at_start, std::vector<int32_t> & out) const override {
        if (text.empty()) {
            return;
        }
        std::string norm;
        norm.reserve(text.size() + text.size() / 4 + 3);
        if (at_start && m_add_space_prefix) {
            norm += k_space_mark;
        }
        for (char c : text) {
            if (c == ' ') {
                norm += k_space_mark;
            } else {
                norm += c;
            }
        }

        // Initial symbols: one per character, or byte tokens (frozen: they never merge).
        std::vector<symbol> sym;
        sym.reserve(norm.size());
        for (size_t pos = 0; pos < norm.size();) {
            const utf8_unit u  = utf8_next(norm, pos); // input was sanitized: always valid
            const int32_t   id = m_lookup.find(std::string_view(norm).substr(pos, u.length));
            if (id >= 0) {
                sym.push_back({id, static_cast<uint32_t>(pos), static_cast<uint32_t>(u.length), 1, false});
            } else {
                for (int k = 0; k < u.length; ++k) {
                    const int32_t b = m_byte_token[static_cast<uint8_t>(norm[pos + k])];
                    if (b < 0 && (m_unk < 0 || (!sym.empty() && sym.back().frozen && sym.back().id == m_unk))) {
                        continue; // consecutive unknowns fuse into one <unk>; with no <unk> at all, dropped
                    }
                    sym.push_back({b < 0 ? m_unk : b, static_cast<uint32_t>(pos + k), 1, 1, true});
                }
            }
            pos += u.length;
        }
        const int n = static_cast<int>(sym.size());
        std::vector<int> prev(n), next(n);
        for (int i = 0; i < n; ++i) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        std::priority_queue<candidate, std::vector<candidate>, worse> queue;
        const auto try_pair = [&](int l) {
            if (l < 0 || next[l] < 0) {
                return;
            }
            const symbol & a = sym[l];
            const symbol & b = sym[next[l]];
            if (a.frozen || b.frozen) {
                return;
            }
            const int32_t t = m_lookup.find(std::string_view(norm).substr(a.start, a.len + b.len));
            if (t < 0) {
                return;
            }
            queue.push({m_score[t], a.chars, b.chars, t, l, a.len, b.len});
        };
        for (int i = 0; i + 1 < n; ++i) {
            try_pair(i);
        }
        while (!queue.empty()) {
            const candidate c = queue.top();
            queue.pop();
            const int r = next[c.left];
            symbol &  a = sym[c.left];
            if (a.len == 0 || r < 0 || a.len != c.left_len || sym[r].len != c.right_len) {
                continue; // stale: one side has merged since
            }
            a.len += sym[r].len;
            a.chars += sym[r].chars;
            a.id = c.token;
            sym[r].len = 0;
            next[c.left] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = c.left;
            }
            try_pair(prev[c.left]);
            try_pair(c.left);
        }
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            out.push_back(sym[i].id);
        }
    }

private:
    struct symbol {
        int32_t  id;
        uint32_t start; // byte offset in the normalized text
        uint32_t len;   // bytes; 0 once merged into its left neighbour
        int32_t  chars; // code points
        bool     frozen;
    };
    struct candidate {
        float    score;
        int32_t  left_chars, right_chars;
        int32_t  token;
        int      left;
        uint32_t left_len, right_len;
    };
    // Priority: higher score, longer left part, longer right part, lower token id, leftmost.
    struct worse {
        bool operator()(const candidate & x, const candidate & y) const {
            if (x.score != y.score) return x.score < y.score;
            if (x.left_chars != y.left_chars) return x.left_chars < y.left_chars;
            if (x.right_chars != y.right_chars) return x.right_chars < y.right_chars;
            if (x.token != y.token) return x.token > y.token;
            return x.left > y.left;
        }
    };

    // The text each token is looked up by: its own, except that a run of spaces is spelled with U+2581.
    static std::vector<std::string> lookup_keys(const std::vector<std::string> & tokens) {
        std::vector<std::string> keys(tokens);
        for (std::string & k : keys) {
            if (is_space_run(k)) {
                std::string marks;
                for (size_t i = 0; i < k.size(); ++i) {
                    marks += k_space_mark;
                }
                k = std::move(marks);
            }
        }
        return keys;
    }

    bool                     m_add_space_prefix;
    std::vector<std::string> m_keys;
    flat_token_map           m_lookup; // a later duplicate wins, as in the reference's dict
    std::vector<float>       m_score;
    std::vector<int32_t>     m_chars;
    std::vector<std::string> m_pieces;
    int32_t                  m_byte_token[256];
    int32_t                  m_unk = -1;
};

} // namespace

std::unique_ptr<model_i> make_spm_model(const tokenizer_vocab & v) {
    return std::make_unique<spm_model>(v);
}

} // namespace v4::tok
