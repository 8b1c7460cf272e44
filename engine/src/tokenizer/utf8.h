// UTF-8 helpers shared by the tokenizers: validation by maximal subparts (Unicode 3.9, D93b), and
// GPT-2's byte <-> letter alphabet for byte-level BPE.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace v4::tok {

// What sits at s[pos]:
//   length > 0, valid:   a complete, well-formed character of `length` bytes;
//   length > 0, !valid:  a maximal invalid subpart of `length` bytes (to be replaced by one U+FFFD);
//   truncated:           the rest of the input is a valid prefix of a character that needs more bytes.
struct utf8_unit {
    int  length    = 0;
    bool valid     = false;
    bool truncated = false;
};
utf8_unit utf8_next(std::string_view s, size_t pos);

// Appends the UTF-8 encoding of code point `cp` (which must be a scalar value).
void utf8_append(std::string & out, uint32_t cp);
// Decodes the valid character of `len` bytes at `p`.
uint32_t utf8_decode(const char * p, int len);
// Number of code points in valid UTF-8 text.
size_t utf8_length(std::string_view s);

constexpr std::string_view replacement_char = "\xEF\xBF\xBD"; // U+FFFD

// GPT-2's reversible byte -> printable code point mapping (bytes_to_unicode in the reference).
struct byte_alphabet {
    std::array<std::string, 256> spelling;   // byte -> UTF-8 of its letter
    std::array<int16_t, 512>     byte_of_cp; // code point (< 512) -> byte, -1 when not a letter

    byte_alphabet();
    // Turns a byte-level spelled token back into bytes; false when a character is not in the alphabet.
    bool unspell(std::string_view token, std::string & out) const;
};
const byte_alphabet & gpt2_alphabet();

} // namespace v4::tok
