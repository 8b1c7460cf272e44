// Reading a tokenizer_vocab from GGUF metadata (tokenizer.* keys).
#include "format/gguf.h"
#include "v4/error.h"
#include "v4/tokenizer.h"

namespace v4 {

namespace {

std::optional<int64_t> opt_id(const gguf::file & f, const char * key) {
    const gguf::value * v = f.find(key);
    return v ? std::optional<int64_t>(v->as_i64(key)) : std::nullopt;
}

void require(const gguf::file & f, const char * key, const char * why) {
    if (f.find(key) == nullptr) {
        throw Error(ErrorCode::format, "tokenizer: " + f.path() + ": required key '" + key + "' is missing (" + why + ")");
    }
}

} // namespace

tokenizer_vocab tokenizer::read_vocab(const gguf::file & f) {
    tokenizer_vocab v;
    require(f, "tokenizer.ggml.model", "the file has no tokenizer");
    v.model = f.get_string("tokenizer.ggml.model");
    require(f, "tokenizer.ggml.tokens", "the vocabulary");
    v.tokens       = f.get_string_array("tokenizer.ggml.tokens");
    v.pre          = f.get_string_opt("tokenizer.ggml.pre").value_or("");
    v.architecture = f.get_string_opt("general.architecture").value_or("");
    if (v.model == "llama") {
        require(f, "tokenizer.ggml.scores", "SentencePiece merges by score");
    }
    if (f.find("tokenizer.ggml.scores")) {
        v.scores = f.get_f32_array("tokenizer.ggml.scores");
    }
    if (f.find("tokenizer.ggml.token_type")) {
        v.types = f.get_i32_array("tokenizer.ggml.token_type");
    }
    if (v.model == "gpt2") {
        require(f, "tokenizer.ggml.merges", "byte-level BPE merges by rank");
    }
    if (f.find("tokenizer.ggml.merges")) {
        v.merges = f.get_string_array("tokenizer.ggml.merges");
    }
    v.bos_id           = opt_id(f, "tokenizer.ggml.bos_token_id");
    v.eos_id           = opt_id(f, "tokenizer.ggml.eos_token_id");
    v.eot_id           = opt_id(f, "tokenizer.ggml.eot_token_id");
    v.eom_id           = opt_id(f, "tokenizer.ggml.eom_token_id");
    v.pad_id           = opt_id(f, "tokenizer.ggml.padding_token_id");
    v.unk_id           = opt_id(f, "tokenizer.ggml.unknown_token_id");
    v.add_bos          = f.get_bool_opt("tokenizer.ggml.add_bos_token");
    v.add_eos          = f.get_bool_opt("tokenizer.ggml.add_eos_token");
    v.add_space_prefix = f.get_bool_opt("tokenizer.ggml.add_space_prefix");
    v.chat_template    = f.get_string_opt("tokenizer.chat_template").value_or("");
    return v;
}

tokenizer tokenizer::from_gguf(const gguf::file & f) {
    return tokenizer(read_vocab(f));
}

tokenizer tokenizer::open(const std::string & gguf_path) {
    const gguf::file f = gguf::file::open(gguf_path);
    return from_gguf(f);
}

} // namespace v4
