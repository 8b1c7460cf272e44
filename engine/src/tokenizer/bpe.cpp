// Byte-level BPE ("gpt2" in GGUF): Qwen2/2.5/3, the DeepSeek-R1 Qwen distills, Llama 3, GPT-2.
//
// The pre-tokenizer regex cuts the fragment into words; each word's bytes start as one symbol each
// (the token spelling that byte in GPT-2's alphabet), and the adjacent pair with the lowest merge rank
// merges until no listed pair is left (ties: leftmost first), as Hugging Face's BPE model does.
#include <queue>
#include <unordered_map>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"
#include "v4/error.h"

namespace v4::tok {

namespace {

class bpe_model final : public model_i {
public:
    explicit bpe_model(const tokenizer_vocab & v) : m_pre(v.pre) {
        const byte_alphabet & abc = gpt2_alphabet();
        const size_t          n   = v.tokens.size();
        token_map             lookup;
        lookup.reserve(n * 2);
        m_pieces.resize(n);
        for (size_t i = 0; i < n; ++i) {
            lookup[v.tokens[i]] = static_cast<int32_t>(i); // a later duplicate wins, as in the reference
            if (!abc.unspell(v.tokens[i], m_pieces[i])) {
                m_pieces[i] = v.tokens[i]; // not byte-level spelled: the text stands for itself
            }
        }
        // Some vocabularies lack a few bytes (SmolLM2 has no token for 21 control and never-valid UTF-8
        // bytes); Hugging Face's BPE without an unknown token drops such bytes, and so do we.
        for (int b = 0; b < 256; ++b) {
            const auto it   = lookup.find(abc.spelling[b]);
            m_byte_token[b] = it == lookup.end() ? -1 : it->second;
        }
        m_merges.reserve(v.merges.size() * 2);
        std::string joined;
        for (size_t r = 0; r < v.merges.size(); ++r) {
            const std::string & m   = v.merges[r];
            const size_t        sep = m.find(' ', 1);
            if (sep == std::string::npos || sep + 1 >= m.size()) {
                throw Error(ErrorCode::format, "tokenizer: tokenizer.ggml.merges[" + std::to_string(r) + "] = '" + m +
                                                   "' is not two tokens separated by a space");
            }
            const std::string_view left(m.data(), sep), right(m.data() + sep + 1, m.size() - sep - 1);
            joined.assign(left).append(right);
            const auto a = lookup.find(left), b = lookup.find(right), c = lookup.find(joined);
            if (a == lookup.end() || b == lookup.end() || c == lookup.end()) {
                throw Error(ErrorCode::format, "tokenizer: tokenizer.ggml.merges[" + std::to_string(r) + "] = '" + m +
                                                   "' uses a token that is not in tokenizer.ggml.tokens");
            }
            m_merges[pair_key(a->second, b->second)] = {static_cast<int32_t>(r), c->second};
        }
    }

    std::string piece(int32_t id) const override { return m_pieces[id]; }

    void encode(std::string_view text, bool /*at_start*/, std::vector<int32_t> & out) const override {
        std::vector<std::string_view> words;
        m_pre.split(text, words);
        std::unordered_map<std::string_view, std::vector<int32_t>> cache; // words repeat a lot in real text
        for (std::string_view w : words) {
            const auto hit = cache.find(w);
            if (hit != cache.end()) {
                out.insert(out.end(), hit->second.begin(), hit->second.end());
                continue;
            }
            std::vector<int32_t> ids;
            encode_word(w, ids);
            out.insert(out.end(), ids.begin(), ids.end());
            if (w.size() < 64) {
                cache.emplace(w, std::move(ids));
            }
        }
    }

private:
    struct merge_t {
        int32_t rank;
        int32_t result;
    };
    struct candidate {
        int32_t rank;
        int     left;
        int32_t left_id, right_id;
    };
    struct worse {
        bool operator()(const candidate & x, const candidate & y) const {
            return x.rank != y.rank ? x.rank > y.rank : x.left > y.left;
        }
    };
    static uint64_t pair_key(int32_t a, int32_t b) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    }

    void encode_word(std::string_view word, std::vector<int32_t> & out) const {
        std::vector<int32_t> id;
        id.reserve(word.size());
        for (const char c : word) {
            if (const int32_t t = m_byte_token[static_cast<uint8_t>(c)]; t >= 0) {
                id.push_back(t);
            }
        }
        const int        n = static_cast<int>(id.size());
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
            const auto it = m_merges.find(pair_key(id[l], id[next[l]]));
            if (it != m_merges.end()) {
                queue.push({it->second.rank, l, id[l], id[next[l]]});
            }
        };
        for (int i = 0; i + 1 < n; ++i) {
            try_pair(i);
        }
        while (!queue.empty()) {
            const candidate c = queue.top();
            queue.pop();
            const int r = next[c.left];
            if (id[c.left] != c.left_id || r < 0 || id[r] != c.right_id) {
                continue; // stale
            }
            id[c.left] = m_merges.find(pair_key(c.left_id, c.right_id))->second.result;
            id[r]      = -1;
            next[c.left] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = c.left;
            }
            try_pair(prev[c.left]);
            try_pair(c.left);
        }
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            out.push_back(id[i]);
        }
    }

    pretokenizer                           m_pre;
    std::vector<std::string>               m_pieces;
    int32_t                                m_byte_token[256];
    std::unordered_map<uint64_t, merge_t> m_merges;
};

} // namespace

std::unique_ptr<model_i> make_bpe_model(const tokenizer_vocab & v) {
    return std::make_unique<bpe_model>(v);
}

} // namespace v4::tok
