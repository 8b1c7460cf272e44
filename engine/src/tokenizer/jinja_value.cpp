#include "tokenizer/jinja_value.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace v4::jinja {

const value * value_dict::find(const std::string & key) const {
    for (const auto & [k, v] : entries) {
        if (k == key) {
            return &v;
        }
    }
    return nullptr;
}

void value_dict::set(const std::string & key, value v) {
    for (auto & [k, old] : entries) {
        if (k == key) {
            old = std::move(v);
            return;
        }
    }
    entries.emplace_back(key, std::move(v));
}

value call_args::get(size_t n, const char * name, value fallback) const {
    if (n < args.size()) {
        return args[n];
    }
    for (const auto & [k, v] : kwargs) {
        if (k == name) {
            return v;
        }
    }
    return fallback;
}

value value::none() {
    value v;
    v.m_kind = value_kind::none;
    return v;
}

value value::undefined(std::string name) {
    value v;
    v.m_str = std::move(name);
    return v;
}

value::value(bool b) : m_kind(value_kind::boolean), m_bool(b) {}
value::value(int64_t i) : m_kind(value_kind::integer), m_int(i) {}
value::value(double f) : m_kind(value_kind::floating), m_float(f) {}
value::value(std::string s) : m_kind(value_kind::string), m_str(std::move(s)) {}

value value::make_list(value_list items) {
    value v;
    v.m_kind = value_kind::list;
    v.m_list = std::make_shared<value_list>(std::move(items));
    return v;
}

value value::make_tuple(value_list items) {
    value v = make_list(std::move(items));
    v.m_tuple = true;
    return v;
}

value value::make_dict() {
    value v;
    v.m_kind = value_kind::dict;
    v.m_dict = std::make_shared<value_dict>();
    return v;
}

value value::make_namespace() {
    value v = make_dict();
    v.m_dict->is_namespace = true;
    return v;
}

value value::make_callable(std::string name, std::function<value(call_args &)> fn) {
    value v;
    v.m_kind = value_kind::callable;
    v.m_fn = std::make_shared<value_callable>(value_callable{std::move(name), std::move(fn)});
    return v;
}

bool value::truthy() const {
    switch (m_kind) {
        case value_kind::undefined:
        case value_kind::none: return false;
        case value_kind::boolean: return m_bool;
        case value_kind::integer: return m_int != 0;
        case value_kind::floating: return m_float != 0.0;
        case value_kind::string: return !m_str.empty();
        case value_kind::list: return !m_list->empty();
        case value_kind::dict: return m_dict->is_namespace || !m_dict->entries.empty();
        case value_kind::callable: return true;
    }
    return false;
}

std::string value::type_name() const {
    switch (m_kind) {
        case value_kind::undefined: return "undefined";
        case value_kind::none: return "NoneType";
        case value_kind::boolean: return "bool";
        case value_kind::integer: return "int";
        case value_kind::floating: return "float";
        case value_kind::string: return "str";
        case value_kind::list: return m_tuple ? "tuple" : "list";
        case value_kind::dict: return m_dict->is_namespace ? "Namespace" : "dict";
        case value_kind::callable: return "function";
    }
    return "?";
}

std::string format_python_float(double f) {
    if (std::isnan(f)) {
        return "nan";
    }
    if (std::isinf(f)) {
        return f < 0 ? "-inf" : "inf";
    }
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    // sci looks like "-1.2345e+05": split into sign, digits and exponent.
    std::string sign;
    size_t pos = 0;
    if (sci[0] == '-') {
        sign = "-";
        pos = 1;
    }
    size_t e_pos = sci.find('e');
    std::string digits;
    for (size_t i = pos; i < e_pos; ++i) {
        if (sci[i] != '.') {
            digits += sci[i];
        }
    }
    int exp = std::stoi(sci.substr(e_pos + 1));
    while (digits.size() > 1 && digits.back() == '0') {
        digits.pop_back();
    }
    if (exp >= -4 && exp < 16) {
        std::string out;
        if (exp < 0) {
            out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
        } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
            out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
        }
        return sign + out;
    }
    std::string mant = digits.substr(0, 1);
    if (digits.size() > 1) {
        mant += "." + digits.substr(1);
    }
    std::string e = std::to_string(exp < 0 ? -exp : exp);
    if (e.size() < 2) {
        e = "0" + e;
    }
    return sign + mant + "e" + (exp < 0 ? "-" : "+") + e;
}

static std::string repr_string(const std::string & s) {
    bool has_single = s.find('\'') != std::string::npos;
    bool has_double = s.find('"') != std::string::npos;
    char quote = (has_single && !has_double) ? '"' : '\'';
    std::string out(1, quote);
    for (unsigned char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c == static_cast<unsigned char>(quote)) {
                    out += '\\';
                    out += static_cast<char>(c);
                } else if (c < 0x20 || c == 0x7f) {
                    static const char * hex = "0123456789abcdef";
                    out += "\\x";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += quote;
    return out;
}

std::string value::to_str() const {
    switch (m_kind) {
        case value_kind::undefined: return "";
        case value_kind::string: return m_str;
        default: return repr();
    }
}

std::string value::repr() const {
    switch (m_kind) {
        case value_kind::undefined: return "";
        case value_kind::none: return "None";
        case value_kind::boolean: return m_bool ? "True" : "False";
        case value_kind::integer: return std::to_string(m_int);
        case value_kind::floating: return format_python_float(m_float);
        case value_kind::string: return repr_string(m_str);
        case value_kind::list: {
            std::string out = m_tuple ? "(" : "[";
            for (size_t i = 0; i < m_list->size(); ++i) {
                out += (i ? ", " : "") + (*m_list)[i].repr();
            }
            if (m_tuple) {
                return out + (m_list->size() == 1 ? ",)" : ")");
            }
            return out + "]";
        }
        case value_kind::dict: {
            std::string out = m_dict->is_namespace ? "<Namespace {" : "{";
            for (size_t i = 0; i < m_dict->entries.size(); ++i) {
                out += (i ? ", " : "") + repr_string(m_dict->entries[i].first) + ": " + m_dict->entries[i].second.repr();
            }
            return out + (m_dict->is_namespace ? "}>" : "}");
        }
        case value_kind::callable: return "<function " + m_fn->name + ">";
    }
    return "";
}

static void json_escape(const std::string & s, std::string & out) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    static const char * hex = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

std::string value::to_json(int indent, int depth) const {
    if (depth > 256) {
        throw std::invalid_argument("tojson: value nested too deeply");
    }
    const bool pretty = indent >= 0;
    auto newline = [&](int level) {
        return "\n" + std::string(static_cast<size_t>(indent) * static_cast<size_t>(level), ' ');
    };
    switch (m_kind) {
        case value_kind::none: return "null";
        case value_kind::boolean: return m_bool ? "true" : "false";
        case value_kind::integer: return std::to_string(m_int);
        case value_kind::floating:
            if (std::isnan(m_float)) {
                return "NaN";
            }
            if (std::isinf(m_float)) {
                return m_float < 0 ? "-Infinity" : "Infinity";
            }
            return format_python_float(m_float);
        case value_kind::string: {
            std::string out;
            json_escape(m_str, out);
            return out;
        }
        case value_kind::list: {
            if (m_list->empty()) {
                return "[]";
            }
            std::string out = "[";
            for (size_t i = 0; i < m_list->size(); ++i) {
                if (i) {
                    out += pretty ? "," : ", ";
                }
                if (pretty) {
                    out += newline(depth + 1);
                }
                out += (*m_list)[i].to_json(indent, depth + 1);
            }
            if (pretty) {
                out += newline(depth);
            }
            return out + "]";
        }
        case value_kind::dict: {
            if (m_dict->is_namespace) {
                throw std::invalid_argument("tojson: Object of type Namespace is not JSON serializable");
            }
            if (m_dict->entries.empty()) {
                return "{}";
            }
            std::string out = "{";
            for (size_t i = 0; i < m_dict->entries.size(); ++i) {
                if (i) {
                    out += pretty ? "," : ", ";
                }
                if (pretty) {
                    out += newline(depth + 1);
                }
                json_escape(m_dict->entries[i].first, out);
                out += ": " + m_dict->entries[i].second.to_json(indent, depth + 1);
            }
            if (pretty) {
                out += newline(depth);
            }
            return out + "}";
        }
        case value_kind::undefined:
            throw std::invalid_argument("tojson: Object of type Undefined is not JSON serializable");
        case value_kind::callable:
            throw std::invalid_argument("tojson: Object of type function is not JSON serializable");
    }
    return "";
}

bool value::equals(const value & o) const {
    const bool num_a = is_number() || is_bool();
    const bool num_b = o.is_number() || o.is_bool();
    if (num_a && num_b) {
        if (is_float() || o.is_float()) {
            return as_double() == o.as_double();
        }
        const int64_t a = is_bool() ? m_bool : m_int;
        const int64_t b = o.is_bool() ? o.m_bool : o.m_int;
        return a == b;
    }
    if (m_kind != o.m_kind || m_tuple != o.m_tuple) {
        return false;
    }
    switch (m_kind) {
        case value_kind::undefined:
        case value_kind::none: return true;
        case value_kind::string: return m_str == o.m_str;
        case value_kind::list: {
            if (m_list->size() != o.m_list->size()) {
                return false;
            }
            for (size_t i = 0; i < m_list->size(); ++i) {
                if (!(*m_list)[i].equals((*o.m_list)[i])) {
                    return false;
                }
            }
            return true;
        }
        case value_kind::dict: {
            if (m_dict == o.m_dict) {
                return true;
            }
            if (m_dict->is_namespace || o.m_dict->is_namespace || m_dict->entries.size() != o.m_dict->entries.size()) {
                return false;
            }
            for (const auto & [k, v] : m_dict->entries) {
                const value * other = o.m_dict->find(k);
                if (!other || !v.equals(*other)) {
                    return false;
                }
            }
            return true;
        }
        case value_kind::callable: return m_fn == o.m_fn;
        default: return false;
    }
}

int value::compare(const value & o) const {
    const bool num_a = is_number() || is_bool();
    const bool num_b = o.is_number() || o.is_bool();
    if (num_a && num_b) {
        if (is_float() || o.is_float()) {
            const double a = as_double();
            const double b = o.as_double();
            return a < b ? -1 : (a > b ? 1 : 0);
        }
        const int64_t a = is_bool() ? m_bool : m_int;
        const int64_t b = o.is_bool() ? o.m_bool : o.m_int;
        return a < b ? -1 : (a > b ? 1 : 0);
    }
    if (is_string() && o.is_string()) {
        const int c = m_str.compare(o.m_str); // byte order of UTF-8 is code point order
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (is_list() && o.is_list()) {
        const size_t n = std::min(m_list->size(), o.m_list->size());
        for (size_t i = 0; i < n; ++i) {
            if (!(*m_list)[i].equals((*o.m_list)[i])) {
                return (*m_list)[i].compare((*o.m_list)[i]);
            }
        }
        return m_list->size() < o.m_list->size() ? -1 : (m_list->size() > o.m_list->size() ? 1 : 0);
    }
    throw std::invalid_argument("'<' not supported between instances of '" + type_name() + "' and '" + o.type_name() + "'");
}

// Invalid bytes decode to U+DC80..U+DCFF (Python's surrogateescape) so that slicing never loses them.
std::vector<uint32_t> utf8_decode(const std::string & s) {
    std::vector<uint32_t> out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = len > 0 && i + static_cast<size_t>(len) <= s.size();
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
        for (int k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            ok = (cc >> 6) == 2;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (!ok) {
            out.push_back(0xDC00u + c);
            i += 1;
        } else {
            out.push_back(cp);
            i += static_cast<size_t>(len);
        }
    }
    return out;
}

std::string utf8_encode(const std::vector<uint32_t> & cps, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end; ++i) {
        const uint32_t cp = cps[i];
        if (cp >= 0xDC80 && cp <= 0xDCFF) {
            out += static_cast<char>(cp - 0xDC00);
        } else if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }
    return out;
}

bool is_python_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000;
}

} // namespace v4::jinja
