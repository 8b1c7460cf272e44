// Internals shared by tokenizer.cpp and the two models (spm.cpp, bpe.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "v4/tokenizer.h"

namespace v4::tok {

// Transparent hashing so maps keyed by std::string can be probed with a string_view.
struct string_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using token_map = std::unordered_map<std::string, int32_t, string_hash, std::equal_to<>>;

// Open-addressing text -> id table for the hot lookups of the merge loops: one probe sequence over a
// flat array of (hash, id), comparing text only on a full hash match. Keys live in the caller's vector.
class flat_token_map {
public:
    // keys[i] is the text of id i; a later duplicate wins (as in the reference's Python dict).
    explicit flat_token_map(const std::vector<std::string> & keys);
    int32_t find(std::string_view text) const; // -1 when absent

private:
    struct slot {
        uint64_t hash = 0;
        int32_t  id   = -1;
    };
    const std::vector<std::string> * m_keys;
    std::vector<slot>                m_slots;
    uint64_t                         m_mask = 0;
};

// A tokenization model: turns one fragment of plain text (no added tokens in it) into ids, and says
// what bytes each token stands for.
class model_i {
public:
    virtual ~model_i() = default;
    // `at_start`: the fragment begins at offset 0 of the caller's text (where a prefix space goes).
    virtual void encode(std::string_view text, bool at_start, std::vector<int32_t> & out) const = 0;
    // The bytes of a normal (non-control, non-user-defined) token.
    virtual std::string piece(int32_t id) const = 0;
    // True when encode() adds a prefix space that decode() must drop again (SentencePiece add_space_prefix).
    virtual bool strips_leading_space() const { return false; }
};

std::unique_ptr<model_i> make_spm_model(const tokenizer_vocab & v);
std::unique_ptr<model_i> make_bpe_model(const tokenizer_vocab & v);

// True for a vocabulary entry that is only ASCII spaces (Gemma stores "  " where SentencePiece means
// U+2581 U+2581); the SentencePiece model looks such tokens up under their U+2581 spelling.
bool is_space_run(std::string_view token);

} // namespace v4::tok
