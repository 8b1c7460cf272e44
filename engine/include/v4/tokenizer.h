// v4::tokenizer: text <-> token ids for the vocabularies GGUF files describe, matching Hugging Face.
//
// Two models are supported, chosen by tokenizer.ggml.model:
//   "llama" SentencePiece-style: spaces become U+2581, pieces merge by score (by position for the Gemma
//           family, as Hugging Face does), characters missing from the vocabulary fall back to <0xXX>.
//   "gpt2"  byte-level BPE: the text is split by the regex tokenizer.ggml.pre names (qwen2,
//           deepseek-r1-qwen, llama-bpe, default, ...), bytes are spelled with GPT-2's byte alphabet
//           and merged by the rank of tokenizer.ggml.merges.
// Control and user-defined tokens (<start_of_turn>, <|im_end|>, <think>) are cut out of the text first,
// leftmost-longest. User-defined ones always; control ones only when encode() is asked to parse them.
//
//   auto file = v4::gguf::file::open("model.gguf");            // or v4::tokenizer::open(path)
//   v4::tokenizer tok = v4::tokenizer::from_gguf(file);
//   std::vector<int32_t> ids = tok.encode("<start_of_turn>user\nHi", /*add_special=*/true, /*parse_special=*/true);
//   v4::utf8_stream out(tok);
//   for (int32_t id : ids) {
//       std::string text = out.push(id);   // only complete, valid UTF-8; partial characters wait
//       ...
//   }
//   std::string rest = out.finish();       // held-back bytes that never completed, as U+FFFD
//   if (tok.is_eog(id)) { ... }            // eos, eot, eom, <end_of_turn>, <|im_end|>, ...
//
// Invalid UTF-8 given to encode() is not an error: each invalid sequence is replaced by U+FFFD first
// (the same rule as utf8_sanitize), so encoding never fails on user text.
//
// Thread safety: a tokenizer is immutable after construction; any number of threads may call its const
// members at once. A utf8_stream belongs to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace v4 {

namespace gguf {
class file;
}

// tokenizer.ggml.token_type values.
enum class token_type : int32_t {
    undefined    = 0,
    normal       = 1,
    unknown      = 2,
    control      = 3,
    user_defined = 4,
    unused       = 5,
    byte         = 6,
};

// Everything a tokenizer is built from, as the GGUF keys spell it. from_gguf() fills it; tests and
// converters may fill it by hand. The tokenizer constructor validates it and throws v4::Error.
struct tokenizer_vocab {
    std::string              model;        // tokenizer.ggml.model: "llama" or "gpt2"
    std::string              pre;          // tokenizer.ggml.pre (gpt2 only; empty means "default")
    std::string              architecture; // general.architecture (gemma* ranks merges by position)
    std::vector<std::string> tokens;       // tokenizer.ggml.tokens
    std::vector<float>       scores;       // tokenizer.ggml.scores: required for "llama", optional for "gpt2"
    std::vector<int32_t>     types;        // tokenizer.ggml.token_type: empty means all normal
    std::vector<std::string> merges;       // tokenizer.ggml.merges: "left right", required for "gpt2"

    std::optional<int64_t> bos_id, eos_id, eot_id, eom_id, pad_id, unk_id;
    std::optional<bool>    add_bos, add_eos, add_space_prefix;
    std::string            chat_template; // tokenizer.chat_template, empty when absent
};

class tokenizer {
public:
    // Throw v4::Error (format for malformed metadata, unsupported for unknown models or pre-tokenizers)
    // with a message naming the key and the offending value.
    static tokenizer from_gguf(const gguf::file & file);
    static tokenizer open(const std::string & gguf_path);
    static tokenizer_vocab read_vocab(const gguf::file & file);
    explicit tokenizer(tokenizer_vocab vocab);

    tokenizer(tokenizer &&) noexcept;
    tokenizer & operator=(tokenizer &&) noexcept;
    ~tokenizer();

    // add_special: BOS/EOS as the metadata asks (add_bos_token, add_eos_token).
    // parse_special: control-token text such as "<start_of_turn>" becomes that token; when false it is
    // tokenized as ordinary text. User-defined tokens are matched either way (Hugging Face does the same).
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

    // The bytes one token stands for: U+2581 as a space, <0xXX> as that byte, byte-level letters as their
    // bytes. Control tokens give their text when render_special is true and nothing otherwise.
    // Throws v4::Error (invalid_argument) for an id outside [0, n_vocab).
    std::string token_to_piece(int32_t id, bool render_special = true) const;
    // Concatenated pieces; may hold invalid UTF-8 when ids cut a character (see utf8_sanitize).
    std::string decode(const std::vector<int32_t> & ids, bool render_special = true) const;

    int32_t n_vocab() const;
    int32_t bos() const; // -1 when the vocabulary has none
    int32_t eos() const;
    int32_t eot() const;
    int32_t eom() const;
    int32_t pad() const;
    int32_t unk() const;
    bool    add_bos() const;
    bool    add_eos() const;
    bool    is_eog(int32_t id) const; // end of generation: eos, eot, eom and the file's end-of-turn controls
    bool    is_control(int32_t id) const;
    token_type type(int32_t id) const;
    const std::string & token_text(int32_t id) const;          // as stored in the vocabulary
    std::optional<int32_t> find_token(std::string_view text) const; // exact vocabulary entry
    const std::string & model() const;
    const std::string & chat_template() const;

private:
    friend class utf8_stream;
    struct impl;
    std::unique_ptr<impl> m_impl;
};

// Replaces every invalid UTF-8 sequence of `bytes` by U+FFFD (one per maximal invalid subpart).
std::string utf8_sanitize(std::string_view bytes);

// Turns tokens into text one at a time, never emitting half a character: push() returns the complete
// characters so far, finish() the bytes still held back (as U+FFFD). The concatenation of all returns
// equals utf8_sanitize(tok.decode(ids, render_special)).
class utf8_stream {
public:
    explicit utf8_stream(const tokenizer & tok, bool render_special = true);
    std::string push(int32_t id);
    std::string push_bytes(std::string_view bytes); // for callers that already have the piece
    std::string finish();

private:
    const tokenizer * m_tok;
    bool              m_render_special;
    bool              m_first = true;
    std::string       m_pending; // an incomplete but so far valid sequence, at most 3 bytes
};

} // namespace v4
