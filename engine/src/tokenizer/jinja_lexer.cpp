#include "tokenizer/jinja_lexer.h"

#include "tokenizer/jinja_value.h"

#include "v4/error.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace v4::jinja {

std::string location_prefix(int line, int col) {
    return "chat template line " + std::to_string(line) + ", col " + std::to_string(col) + ": ";
}

namespace {

// Jinja normalises newlines to "\n" and, without keep_trailing_newline, drops one trailing newline.
std::string normalize_source(const std::string & source) {
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n') {
                ++i;
            }
        } else {
            out += source[i];
        }
    }
    if (!out.empty() && out.back() == '\n') {
        out.pop_back();
    }
    return out;
}

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

class lexer {
public:
    explicit lexer(std::string src) : m_src(std::move(src)) {
        m_line_starts.push_back(0);
        for (size_t i = 0; i < m_src.size(); ++i) {
            if (m_src[i] == '\n') {
                m_line_starts.push_back(i + 1);
            }
        }
    }

    std::vector<token> run();

private:
    [[noreturn]] void fail(size_t pos, const std::string & what) const {
        auto [line, col] = line_col(pos);
        throw Error(ErrorCode::format, location_prefix(line, col) + what);
    }

    std::pair<int, int> line_col(size_t pos) const {
        auto it = std::upper_bound(m_line_starts.begin(), m_line_starts.end(), pos);
        const size_t start = *(it - 1);
        int col = 1;
        for (size_t i = start; i < pos && i < m_src.size(); ++i) {
            if ((static_cast<unsigned char>(m_src[i]) & 0xC0) != 0x80) {
                ++col;
            }
        }
        return {static_cast<int>(it - m_line_starts.begin()), col};
    }

    void push(token_kind kind, std::string text, size_t pos) {
        auto [line, col] = line_col(pos);
        m_out.push_back(token{kind, std::move(text), line, col});
    }

    bool starts_with(size_t pos, const char * s) const { return m_src.compare(pos, std::strlen(s), s) == 0; }

    // Lexes the inside of a {{ }} or {% %} tag starting at m_pos; returns the whitespace control char ('-', '+' or
    // 0) of its end marker and leaves m_pos after the marker.
    char lex_tag(bool is_block, size_t tag_pos);
    void lex_string(size_t start);
    void lex_number(size_t start);

    std::string m_src;
    std::vector<size_t> m_line_starts;
    std::vector<token> m_out;
    size_t m_pos = 0;
};

std::vector<token> lexer::run() {
    bool strip_next_text = false; // the previous tag ended with '-'
    bool line_starting = true;    // the previous tag's match ended with a newline (or we are at the start)
    const size_t n = m_src.size();
    while (m_pos <= n) {
        // Find the next tag opener.
        size_t s = m_pos;
        while (true) {
            s = m_src.find('{', s);
            if (s == std::string::npos || s + 1 >= n) {
                s = std::string::npos;
                break;
            }
            const char c = m_src[s + 1];
            if (c == '{' || c == '%' || c == '#') {
                break;
            }
            ++s;
        }
        std::string text = m_src.substr(m_pos, s == std::string::npos ? std::string::npos : s - m_pos);
        if (strip_next_text) {
            size_t k = 0;
            while (k < text.size() && is_ws(text[k])) {
                ++k;
            }
            text.erase(0, k);
        }
        const size_t text_pos = m_pos;
        if (s == std::string::npos) {
            if (!text.empty()) {
                push(token_kind::text, std::move(text), text_pos);
            }
            break;
        }
        const char kind = m_src[s + 1];
        const char ctl = s + 2 < n ? m_src[s + 2] : 0;
        if (ctl == '-') {
            while (!text.empty() && is_ws(text.back())) {
                text.pop_back();
            }
        } else if (ctl != '+' && (kind == '%' || kind == '#')) {
            // lstrip_blocks: drop spaces and tabs between the start of the line and the tag.
            const size_t nl = text.rfind('\n');
            const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
            if (l_pos > 0 || line_starting) {
                if (text.find_first_not_of(" \t", l_pos) == std::string::npos) {
                    text.erase(l_pos);
                }
            }
        }
        if (!text.empty()) {
            push(token_kind::text, std::move(text), text_pos);
        }
        m_pos = s + 2 + ((ctl == '-' || (ctl == '+' && kind != '{')) ? 1 : 0);
        char end_ctl = 0;
        if (kind == '#') {
            const size_t e = m_src.find("#}", m_pos);
            if (e == std::string::npos) {
                fail(s, "unterminated comment '{#'");
            }
            end_ctl = (e > m_pos && (m_src[e - 1] == '-' || m_src[e - 1] == '+')) ? m_src[e - 1] : 0;
            m_pos = e + 2;
        } else {
            end_ctl = lex_tag(kind == '%', s);
        }
        strip_next_text = end_ctl == '-';
        line_starting = false;
        if (end_ctl == 0 && kind != '{' && m_pos < n && m_src[m_pos] == '\n') {
            ++m_pos; // trim_blocks
            line_starting = true;
        }
        if (m_pos >= n) {
            break;
        }
    }
    push(token_kind::eof, "", n);
    return std::move(m_out);
}

char lexer::lex_tag(bool is_block, size_t tag_pos) {
    push(is_block ? token_kind::block_begin : token_kind::var_begin, "", tag_pos);
    const char * end = is_block ? "%}" : "}}";
    int depth = 0;
    const size_t n = m_src.size();
    while (true) {
        while (m_pos < n && is_ws(m_src[m_pos])) {
            ++m_pos;
        }
        if (m_pos >= n) {
            fail(tag_pos, std::string("unterminated '") + (is_block ? "{%" : "{{") + "' tag (missing '" + end + "')");
        }
        if (depth == 0) {
            for (const char c : {'-', '+'}) {
                if (m_src[m_pos] == c && starts_with(m_pos + 1, end) && (c == '-' || is_block)) {
                    push(is_block ? token_kind::block_end : token_kind::var_end, "", m_pos);
                    m_pos += 3;
                    return c;
                }
            }
            if (starts_with(m_pos, end)) {
                push(is_block ? token_kind::block_end : token_kind::var_end, "", m_pos);
                m_pos += 2;
                return 0;
            }
        }
        const char c = m_src[m_pos];
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            const size_t start = m_pos;
            while (m_pos < n && (std::isalnum(static_cast<unsigned char>(m_src[m_pos])) || m_src[m_pos] == '_')) {
                ++m_pos;
            }
            push(token_kind::name, m_src.substr(start, m_pos - start), start);
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            lex_number(m_pos);
        } else if (c == '\'' || c == '"') {
            lex_string(m_pos);
        } else {
            static const char * ops[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                         ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ",", ".", ":", "|"};
            const char * found = nullptr;
            for (const char * op : ops) {
                if (starts_with(m_pos, op)) {
                    found = op;
                    break;
                }
            }
            if (!found) {
                fail(m_pos, std::string("unexpected character '") + c + "'");
            }
            if (std::strchr("([{", found[0]) && found[1] == 0) {
                ++depth;
            } else if (std::strchr(")]}", found[0]) && found[1] == 0 && depth > 0) {
                --depth;
            }
            push(token_kind::op, found, m_pos);
            m_pos += std::strlen(found);
        }
    }
}

void lexer::lex_number(size_t start) {
    const size_t n = m_src.size();
    auto digits = [&] {
        while (m_pos < n && (std::isdigit(static_cast<unsigned char>(m_src[m_pos])) || m_src[m_pos] == '_')) {
            ++m_pos;
        }
    };
    digits();
    bool is_float = false;
    if (m_pos + 1 < n && m_src[m_pos] == '.' && std::isdigit(static_cast<unsigned char>(m_src[m_pos + 1]))) {
        is_float = true;
        ++m_pos;
        digits();
    }
    if (m_pos < n && (m_src[m_pos] == 'e' || m_src[m_pos] == 'E')) {
        size_t p = m_pos + 1;
        if (p < n && (m_src[p] == '+' || m_src[p] == '-')) {
            ++p;
        }
        if (p < n && std::isdigit(static_cast<unsigned char>(m_src[p]))) {
            is_float = true;
            m_pos = p;
            digits();
        }
    }
    std::string text;
    for (size_t i = start; i < m_pos; ++i) {
        if (m_src[i] != '_') {
            text += m_src[i];
        }
    }
    push(is_float ? token_kind::floating : token_kind::integer, text, start);
}

void lexer::lex_string(size_t start) {
    const char quote = m_src[start];
    const size_t n = m_src.size();
    std::string out;
    m_pos = start + 1;
    auto hex_value = [&](size_t p, int count, uint32_t & cp) {
        if (p + static_cast<size_t>(count) > n) {
            return false;
        }
        cp = 0;
        for (int k = 0; k < count; ++k) {
            const char h = m_src[p + static_cast<size_t>(k)];
            if (!std::isxdigit(static_cast<unsigned char>(h))) {
                return false;
            }
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
        }
        return true;
    };
    while (true) {
        if (m_pos >= n) {
            fail(start, "unterminated string literal");
        }
        const char c = m_src[m_pos];
        if (c == quote) {
            ++m_pos;
            break;
        }
        if (c != '\\' || m_pos + 1 >= n) {
            out += c;
            ++m_pos;
            continue;
        }
        const char e = m_src[m_pos + 1];
        m_pos += 2;
        switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case 'a': out += '\a'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'v': out += '\v'; break;
            case '0': out += '\0'; break;
            case '\\': out += '\\'; break;
            case '\'': out += '\''; break;
            case '"': out += '"'; break;
            case '\n': break; // line continuation
            case 'x':
            case 'u':
            case 'U': {
                const int count = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
                uint32_t cp = 0;
                if (!hex_value(m_pos, count, cp) || cp > 0x10FFFF) {
                    fail(m_pos - 2, std::string("invalid \\") + e + " escape in string literal");
                }
                m_pos += static_cast<size_t>(count);
                std::vector<uint32_t> one{cp};
                out += utf8_encode(one, 0, 1);
                break;
            }
            default:
                out += '\\'; // Python keeps unknown escapes as written
                out += e;
        }
    }
    push(token_kind::string, std::move(out), start);
}

} // namespace

std::vector<token> tokenize(const std::string & source) {
    return lexer(normalize_source(source)).run();
}

} // namespace v4::jinja
