#include "tokenizer/utf8.h"

#include "v4/tokenizer.h"

namespace v4::tok {

utf8_unit utf8_next(std::string_view s, size_t pos) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
    const uint8_t b0 = byte(pos);
    if (b0 < 0x80) {
        return {1, true, false};
    }
    int     need = 0;
    uint8_t lo = 0x80, hi = 0xBF; // allowed range of the second byte (excludes overlongs and surrogates)
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
    } else if (b0 == 0xE0) {
        need = 2, lo = 0xA0;
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
        need = 2;
    } else if (b0 == 0xED) {
        need = 2, hi = 0x9F;
    } else if (b0 == 0xF0) {
        need = 3, lo = 0x90;
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
        need = 3;
    } else if (b0 == 0xF4) {
        need = 3, hi = 0x8F;
    } else {
        return {1, false, false}; // 0x80..0xC1, 0xF5..0xFF never start a character
    }
    for (int i = 1; i <= need; ++i) {
        if (pos + i >= s.size()) {
            return {static_cast<int>(s.size() - pos), false, true};
        }
        const uint8_t b  = byte(pos + i);
        const bool    ok = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
        if (!ok) {
            return {i, false, false}; // the valid prefix so far is one maximal subpart
        }
    }
    return {need + 1, true, false};
}

void utf8_append(std::string & out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

uint32_t utf8_decode(const char * p, int len) {
    const auto b = [&](int i) { return static_cast<uint32_t>(static_cast<uint8_t>(p[i])); };
    switch (len) {
        case 1: return b(0);
        case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
        case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
        default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    }
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (char c : s) {
        n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
    }
    return n;
}

byte_alphabet::byte_alphabet() {
    byte_of_cp.fill(-1);
    // Printable Latin-1 bytes keep their code point; the other 68 are moved to 256, 257, ... in order.
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        const uint32_t cp = printable ? static_cast<uint32_t>(b) : next++;
        utf8_append(spelling[b], cp);
        byte_of_cp[cp] = static_cast<int16_t>(b);
    }
}

bool byte_alphabet::unspell(std::string_view token, std::string & out) const {
    for (size_t pos = 0; pos < token.size();) {
        const utf8_unit u = utf8_next(token, pos);
        if (!u.valid) {
            return false;
        }
        const uint32_t cp = utf8_decode(token.data() + pos, u.length);
        if (cp >= byte_of_cp.size() || byte_of_cp[cp] < 0) {
            return false;
        }
        out += static_cast<char>(byte_of_cp[cp]);
        pos += u.length;
    }
    return true;
}

const byte_alphabet & gpt2_alphabet() {
    static const byte_alphabet alphabet;
    return alphabet;
}

} // namespace v4::tok

namespace v4 {

std::string utf8_sanitize(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (size_t pos = 0; pos < bytes.size();) {
        const tok::utf8_unit u = tok::utf8_next(bytes, pos);
        if (u.valid) {
            out.append(bytes.substr(pos, u.length));
        } else {
            out += tok::replacement_char;
        }
        pos += u.length;
    }
    return out;
}

} // namespace v4
