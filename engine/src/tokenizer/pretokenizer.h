// Regex pre-tokenizers for byte-level BPE, selected by tokenizer.ggml.pre. Each splits text into words
// ("isolated": matches and the gaps between them are all words), with Unicode classes from PCRE2.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace v4::tok {

class pretokenizer {
public:
    // Throws v4::Error (unsupported) for a name it does not know.
    explicit pretokenizer(const std::string & pre_name);
    ~pretokenizer();
    pretokenizer(const pretokenizer &)             = delete;
    pretokenizer & operator=(const pretokenizer &) = delete;

    // `text` must be valid UTF-8. Appends the words, in order; they concatenate back to `text`.
    void split(std::string_view text, std::vector<std::string_view> & words) const;

private:
    struct impl;
    std::unique_ptr<impl> m_impl;
};

} // namespace v4::tok
