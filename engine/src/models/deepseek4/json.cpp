#include "models/deepseek4/json.h"

#include <cstdlib>

#include "v4/error.h"

namespace v4::deepseek4 {

const json_value * json_value::find(const std::string & key) const {
    if (type != kind::object) {
        return nullptr;
    }
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &it->second;
}

namespace {

struct json_parser {
    std::string_view s;
    size_t pos = 0;
    const std::string & what;
    int depth = 0;

    [[noreturn]] void fail(const std::string & msg) const {
        throw Error(ErrorCode::format, what + ": invalid JSON at byte " + std::to_string(pos) + ": " + msg);
    }

    void skip_ws() {
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) {
            pos++;
        }
    }

    void expect(char c) {
        skip_ws();
        if (pos >= s.size() || s[pos] != c) {
            fail(std::string("expected '") + c + "'");
        }
        pos++;
    }

    void literal(std::string_view word) {
        if (s.substr(pos, word.size()) != word) {
            fail("unknown literal");
        }
        pos += word.size();
    }

    static void put_utf8(std::string & out, uint32_t cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }

    uint32_t hex4() {
        if (pos + 4 > s.size()) {
            fail("truncated \\u escape");
        }
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
            const char c = s[pos++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
            else fail("bad hex digit in \\u escape");
        }
        return v;
    }

    std::string string_body() {
        expect('"');
        std::string out;
        while (true) {
            if (pos >= s.size()) {
                fail("unterminated string");
            }
            const char c = s[pos++];
            if (c == '"') {
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20) {
                fail("control character in string");
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos >= s.size()) {
                fail("unterminated escape");
            }
            const char e = s[pos++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                uint32_t cp = hex4();
                if (cp >= 0xD800 && cp < 0xDC00 && s.substr(pos, 2) == "\\u") {
                    pos += 2;
                    const uint32_t lo = hex4();
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                put_utf8(out, cp);
                break;
            }
            default: fail("unknown escape");
            }
        }
    }

    json_value value() {
        if (++depth > 64) {
            fail("nesting deeper than 64");
        }
        skip_ws();
        if (pos >= s.size()) {
            fail("unexpected end");
        }
        json_value v;
        const char c = s[pos];
        if (c == '{') {
            v.type = json_value::kind::object;
            pos++;
            skip_ws();
            if (pos < s.size() && s[pos] == '}') {
                pos++;
            } else {
                while (true) {
                    skip_ws();
                    std::string key = string_body();
                    expect(':');
                    if (v.obj.count(key)) {
                        fail("duplicate key '" + key + "'");
                    }
                    v.obj.emplace(std::move(key), value());
                    skip_ws();
                    if (pos < s.size() && s[pos] == ',') { pos++; continue; }
                    expect('}');
                    break;
                }
            }
        } else if (c == '[') {
            v.type = json_value::kind::array;
            pos++;
            skip_ws();
            if (pos < s.size() && s[pos] == ']') {
                pos++;
            } else {
                while (true) {
                    v.arr.push_back(value());
                    skip_ws();
                    if (pos < s.size() && s[pos] == ',') { pos++; continue; }
                    expect(']');
                    break;
                }
            }
        } else if (c == '"') {
            v.type = json_value::kind::string;
            v.str = string_body();
        } else if (c == 't') {
            literal("true");
            v.type = json_value::kind::boolean;
            v.b = true;
        } else if (c == 'f') {
            literal("false");
            v.type = json_value::kind::boolean;
        } else if (c == 'n') {
            literal("null");
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            const size_t start = pos;
            if (s[pos] == '-') pos++;
            while (pos < s.size() && ((s[pos] >= '0' && s[pos] <= '9') || s[pos] == '.' || s[pos] == 'e' ||
                                      s[pos] == 'E' || s[pos] == '+' || s[pos] == '-')) {
                pos++;
            }
            const std::string text(s.substr(start, pos - start));
            char * end = nullptr;
            v.num = std::strtod(text.c_str(), &end);
            if (end != text.c_str() + text.size()) {
                pos = start;
                fail("bad number '" + text + "'");
            }
            v.type = json_value::kind::number;
        } else {
            fail(std::string("unexpected character '") + c + "'");
        }
        depth--;
        return v;
    }
};

} // namespace

json_value json_parse(std::string_view text, const std::string & what) {
    json_parser p{text, 0, what};
    json_value v = p.value();
    p.skip_ws();
    if (p.pos != text.size()) {
        p.fail("trailing characters after the document");
    }
    return v;
}

} // namespace v4::deepseek4
