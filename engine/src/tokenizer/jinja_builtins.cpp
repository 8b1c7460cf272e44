// Filters, tests, string/dict methods and global functions of the chat-template Jinja subset. Each follows the
// Python or Jinja built-in of the same name, as seen by transformers' ImmutableSandboxedEnvironment.
#include "tokenizer/jinja_eval.h"
#include "tokenizer/jinja_lexer.h"
#include "tokenizer/jinja_parser.h"
#include "v4/error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <stdexcept>

namespace v4::jinja {

namespace {

const std::set<std::string> & filter_names() {
    static const std::set<std::string> names = {
        "abs",  "attr",     "capitalize", "count",  "d",      "default", "dictsort", "e",         "escape",
        "first", "float",   "int",        "items",  "join",   "last",    "length",   "list",      "lower",
        "map",   "max",     "min",        "reject", "rejectattr", "replace", "reverse", "round", "safe",
        "select", "selectattr", "sort",   "string", "sum",    "title",   "tojson",   "trim",      "unique",
        "upper",
    };
    return names;
}

const std::set<std::string> & test_names() {
    static const std::set<std::string> names = {
        "boolean", "callable", "defined", "divisibleby", "eq",   "equalto", "escaped", "even",    "false",
        "float",   "ge",       "gt",      "in",          "integer", "iterable", "le",    "lower",   "lt",
        "mapping", "ne",       "none",    "number",      "odd",  "sameas",  "sequence", "string", "true",
        "undefined", "upper",  "==",      "!=",          "<",    "<=",      ">",       ">=",
    };
    return names;
}

std::string ascii_lower(std::string s) {
    for (char & c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

std::string ascii_upper(std::string s) {
    for (char & c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

// Python str.title(): a letter after a non-letter is upper-cased, every other letter lower-cased.
std::string python_title(const std::string & s) {
    std::string out = s;
    bool prev_cased = false;
    for (char & c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalpha(u)) {
            c = static_cast<char>(prev_cased ? std::tolower(u) : std::toupper(u));
            prev_cased = true;
        } else {
            prev_cased = u >= 0x80 && prev_cased; // keep inside multi-byte letters
        }
    }
    return out;
}

std::string python_capitalize(const std::string & s) {
    std::string out = ascii_lower(s);
    if (!out.empty()) {
        out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    }
    return out;
}

// Python str.strip/lstrip/rstrip: whitespace when chars is none, else any code point of chars.
std::string python_strip(const std::string & s, const value & chars, bool left, bool right) {
    const auto cps = utf8_decode(s);
    std::vector<uint32_t> set;
    const bool ws = chars.is_none() || chars.is_undefined();
    if (!ws) {
        set = utf8_decode(chars.to_str());
    }
    auto strip_it = [&](uint32_t cp) {
        return ws ? is_python_space(cp) : std::find(set.begin(), set.end(), cp) != set.end();
    };
    size_t b = 0;
    size_t e = cps.size();
    while (left && b < e && strip_it(cps[b])) {
        ++b;
    }
    while (right && e > b && strip_it(cps[e - 1])) {
        --e;
    }
    return utf8_encode(cps, b, e);
}

std::string python_replace(const std::string & s, const std::string & from, const std::string & to, int64_t count) {
    if (from.empty()) {
        // Python inserts `to` between every code point (and at both ends).
        const auto cps = utf8_decode(s);
        std::string out;
        int64_t done = 0;
        for (size_t i = 0; i <= cps.size(); ++i) {
            if (count < 0 || done < count) {
                out += to;
                ++done;
            }
            if (i < cps.size()) {
                out += utf8_encode(cps, i, i + 1);
            }
        }
        return out;
    }
    std::string out;
    size_t pos = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        const size_t hit = s.find(from, pos);
        if (hit == std::string::npos) {
            break;
        }
        out.append(s, pos, hit - pos);
        out += to;
        pos = hit + from.size();
        ++done;
    }
    out.append(s, pos, std::string::npos);
    return out;
}

value python_split(const expr & at, const std::string & s, const value & sep, int64_t maxsplit) {
    value_list parts;
    if (sep.is_none() || sep.is_undefined()) {
        const auto cps = utf8_decode(s);
        size_t i = 0;
        while (i < cps.size()) {
            while (i < cps.size() && is_python_space(cps[i])) {
                ++i;
            }
            if (i >= cps.size()) {
                break;
            }
            if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
                size_t e = cps.size();
                while (e > i && is_python_space(cps[e - 1])) {
                    --e;
                }
                parts.emplace_back(utf8_encode(cps, i, e));
                break;
            }
            size_t j = i;
            while (j < cps.size() && !is_python_space(cps[j])) {
                ++j;
            }
            parts.emplace_back(utf8_encode(cps, i, j));
            i = j;
        }
        return value::make_list(std::move(parts));
    }
    if (!sep.is_string()) {
        fail_at(at, "split() separator must be a string or none");
    }
    const std::string & d = sep.as_string();
    if (d.empty()) {
        fail_at(at, "empty separator");
    }
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
        const size_t hit = s.find(d, pos);
        if (hit == std::string::npos) {
            break;
        }
        parts.emplace_back(s.substr(pos, hit - pos));
        pos = hit + d.size();
    }
    parts.emplace_back(s.substr(pos));
    return value::make_list(std::move(parts));
}

int64_t int_arg(const expr & at, const value & v, const char * what) {
    if (v.is_int()) {
        return v.as_int();
    }
    if (v.is_bool()) {
        return v.as_bool();
    }
    fail_at(at, std::string(what) + " must be an integer, got '" + v.type_name() + "'");
}

std::string str_arg(const expr & at, const value & v, const char * what) {
    if (!v.is_string()) {
        fail_at(at, std::string(what) + " must be a string, got '" + v.type_name() + "'");
    }
    return v.as_string();
}

// Jinja's attribute lookup for filters like selectattr and map(attribute=): dotted paths, integer parts index.
value attribute_path(const expr & at, const value & item, const std::string & path) {
    value cur = item;
    size_t pos = 0;
    while (pos <= path.size()) {
        const size_t dot = path.find('.', pos);
        const std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        if (!part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
            cur = get_item(at, cur, value(static_cast<int64_t>(std::stoll(part))));
        } else {
            cur = get_attr(cur, part);
        }
        if (dot == std::string::npos) {
            break;
        }
        pos = dot + 1;
    }
    return cur;
}

// select/reject/selectattr/rejectattr share this: args after `skip` are (test name, test args...).
value filter_by_test(evaluator & ev, const expr & at, const value & subject, call_args & args, bool keep_if,
                     bool by_attr) {
    std::string attribute;
    size_t next = 0;
    if (by_attr) {
        attribute = str_arg(at, args.get(0, "attribute"), "attribute");
        next = 1;
    }
    std::string test;
    if (next < args.args.size()) {
        test = str_arg(at, args.args[next], "test name");
        if (!is_known_test(test)) {
            fail_unsupported_at(at, "unsupported test '" + test + "'");
        }
    }
    call_args test_args;
    test_args.line = args.line;
    test_args.col = args.col;
    for (size_t i = next + 1; i < args.args.size(); ++i) {
        test_args.args.push_back(args.args[i]);
    }
    value_list out;
    for (const value & item : iterate(at, subject)) {
        const value v = by_attr ? attribute_path(at, item, attribute) : item;
        const bool pass = test.empty() ? v.truthy() : apply_test(ev, at, test, v, test_args);
        if (pass == keep_if) {
            out.push_back(item);
        }
    }
    return value::make_list(std::move(out));
}

std::string html_escape(const std::string & s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

void sort_values(const expr & at, value_list & items, bool reverse, const std::string & attribute) {
    try {
        std::stable_sort(items.begin(), items.end(), [&](const value & a, const value & b) {
            value ka = attribute.empty() ? a : attribute_path(at, a, attribute);
            value kb = attribute.empty() ? b : attribute_path(at, b, attribute);
            if (ka.is_string() && kb.is_string()) { // Jinja sorts case-insensitively by default
                ka = value(ascii_lower(ka.as_string()));
                kb = value(ascii_lower(kb.as_string()));
            }
            const int c = ka.compare(kb);
            return reverse ? c > 0 : c < 0;
        });
    } catch (const std::invalid_argument & e) {
        fail_at(at, e.what());
    }
}

} // namespace

bool is_known_filter(const std::string & name) {
    return filter_names().count(name) != 0;
}

bool is_known_test(const std::string & name) {
    return test_names().count(name) != 0;
}

value apply_filter(evaluator & ev, const expr & at, const std::string & name, const value & subject,
                   call_args & args) {
    if (name == "trim") {
        return value(python_strip(subject.to_str(), args.get(0, "chars", value::none()), true, true));
    }
    if (name == "upper") {
        return value(ascii_upper(subject.to_str()));
    }
    if (name == "lower") {
        return value(ascii_lower(subject.to_str()));
    }
    if (name == "capitalize") {
        return value(python_capitalize(subject.to_str()));
    }
    if (name == "title") {
        return value(python_title(subject.to_str()));
    }
    if (name == "length" || name == "count") {
        if (!subject.is_string() && !subject.is_list() && !subject.is_dict() && !subject.is_undefined()) {
            fail_at(at, "object of type '" + subject.type_name() + "' has no len()");
        }
        return value(static_cast<int64_t>(value_length(subject)));
    }
    if (name == "string") {
        return value(subject.to_str());
    }
    if (name == "safe") {
        return subject;
    }
    if (name == "e" || name == "escape") {
        return value(html_escape(subject.to_str()));
    }
    if (name == "tojson") {
        for (const auto & [k, v] : args.kwargs) {
            (void)v;
            if (k != "indent") {
                fail_unsupported_at(at, "unsupported tojson argument '" + k + "'");
            }
        }
        if (args.args.size() > 1) {
            fail_unsupported_at(at, "unsupported tojson arguments beyond indent");
        }
        const value indent = args.get(0, "indent", value::none());
        try {
            return value(subject.to_json(indent.is_none() ? -1 : static_cast<int>(int_arg(at, indent, "indent"))));
        } catch (const std::invalid_argument & e) {
            fail_at(at, e.what());
        }
    }
    if (name == "join") {
        const std::string sep = args.get(0, "d", value("")).to_str();
        const value attribute = args.get(1, "attribute", value::none());
        std::string out;
        bool first = true;
        for (const value & item : iterate(at, subject)) {
            out += (first ? "" : sep);
            out += (attribute.is_none() ? item : attribute_path(at, item, attribute.to_str())).to_str();
            first = false;
        }
        return value(std::move(out));
    }
    if (name == "first" || name == "last") {
        const value_list items = iterate(at, subject);
        if (items.empty()) {
            return value::undefined();
        }
        return name == "first" ? items.front() : items.back();
    }
    if (name == "replace") {
        const value count = args.get(2, "count", value::none());
        return value(python_replace(subject.to_str(), args.get(0, "old").to_str(), args.get(1, "new").to_str(),
                                    count.is_none() ? -1 : int_arg(at, count, "count")));
    }
    if (name == "default" || name == "d") {
        const bool boolean = args.get(1, "boolean", value(false)).truthy();
        if (subject.is_undefined() || (boolean && !subject.truthy())) {
            return args.get(0, "default_value", value(""));
        }
        return subject;
    }
    if (name == "list") {
        return value::make_list(iterate(at, subject));
    }
    if (name == "reverse") {
        if (subject.is_string()) {
            auto cps = utf8_decode(subject.as_string());
            std::reverse(cps.begin(), cps.end());
            return value(utf8_encode(cps, 0, cps.size()));
        }
        value_list items = iterate(at, subject);
        std::reverse(items.begin(), items.end());
        return value::make_list(std::move(items));
    }
    if (name == "items") {
        value_list out;
        if (subject.is_dict()) {
            for (const auto & [k, v] : subject.dict().entries) {
                out.push_back(value::make_tuple({value(k), v}));
            }
        } else if (!subject.is_undefined()) {
            fail_at(at, "items filter needs a mapping, got '" + subject.type_name() + "'");
        }
        return value::make_list(std::move(out));
    }
    if (name == "dictsort") {
        if (!subject.is_dict()) {
            fail_at(at, "dictsort filter needs a mapping, got '" + subject.type_name() + "'");
        }
        value_list out;
        for (const auto & [k, v] : subject.dict().entries) {
            out.push_back(value::make_tuple({value(k), v}));
        }
        sort_values(at, out, args.get(2, "reverse", value(false)).truthy(), "0");
        return value::make_list(std::move(out));
    }
    if (name == "sort") {
        value_list items = iterate(at, subject);
        const value attribute = args.get(2, "attribute", value::none());
        sort_values(at, items, args.get(0, "reverse", value(false)).truthy(),
                    attribute.is_none() ? std::string() : attribute.to_str());
        return value::make_list(std::move(items));
    }
    if (name == "unique") {
        value_list out;
        for (const value & item : iterate(at, subject)) {
            bool seen = false;
            for (const value & o : out) {
                seen = seen || o.equals(item);
            }
            if (!seen) {
                out.push_back(item);
            }
        }
        return value::make_list(std::move(out));
    }
    if (name == "select" || name == "reject") {
        return filter_by_test(ev, at, subject, args, name == "select", false);
    }
    if (name == "selectattr" || name == "rejectattr") {
        return filter_by_test(ev, at, subject, args, name == "selectattr", true);
    }
    if (name == "map") {
        value_list out;
        const value attribute = args.get(99, "attribute", value::none());
        if (!attribute.is_none()) {
            const value fallback = args.get(99, "default", value::undefined());
            for (const value & item : iterate(at, subject)) {
                value v = attribute_path(at, item, attribute.to_str());
                out.push_back(v.is_undefined() && !fallback.is_undefined() ? fallback : v);
            }
            return value::make_list(std::move(out));
        }
        const std::string filter = str_arg(at, args.get(0, "filter"), "filter name");
        if (!is_known_filter(filter) || filter == "map") {
            fail_unsupported_at(at, "unsupported filter '" + filter + "'");
        }
        call_args rest;
        rest.line = args.line;
        rest.col = args.col;
        rest.args.assign(args.args.begin() + 1, args.args.end());
        rest.kwargs = args.kwargs;
        for (const value & item : iterate(at, subject)) {
            out.push_back(apply_filter(ev, at, filter, item, rest));
        }
        return value::make_list(std::move(out));
    }
    if (name == "attr") {
        return get_attr(subject, args.get(0, "name").to_str());
    }
    if (name == "int") {
        const value fallback = args.get(0, "default", value(int64_t(0)));
        if (subject.is_int()) {
            return subject;
        }
        if (subject.is_bool()) {
            return value(int64_t(subject.as_bool()));
        }
        if (subject.is_float()) {
            return std::isfinite(subject.as_double()) ? value(static_cast<int64_t>(subject.as_double())) : fallback;
        }
        if (subject.is_string()) {
            const std::string s = python_strip(subject.as_string(), value::none(), true, true);
            try {
                size_t used = 0;
                const long long i = std::stoll(s, &used, 10);
                if (used == s.size()) {
                    return value(static_cast<int64_t>(i));
                }
                const double d = std::stod(s, &used);
                if (used == s.size() && std::isfinite(d)) {
                    return value(static_cast<int64_t>(d));
                }
            } catch (const std::exception &) {
            }
        }
        return fallback;
    }
    if (name == "float") {
        const value fallback = args.get(0, "default", value(0.0));
        if (subject.is_number() || subject.is_bool()) {
            return value(subject.as_double());
        }
        if (subject.is_string()) {
            try {
                size_t used = 0;
                const std::string s = python_strip(subject.as_string(), value::none(), true, true);
                const double d = std::stod(s, &used);
                if (used == s.size()) {
                    return value(d);
                }
            } catch (const std::exception &) {
            }
        }
        return fallback;
    }
    if (name == "abs") {
        if (subject.is_float()) {
            return value(std::fabs(subject.as_double()));
        }
        const int64_t i = int_arg(at, subject, "abs argument");
        return value(i < 0 ? -i : i);
    }
    if (name == "round") {
        const int64_t precision = int_arg(at, args.get(0, "precision", value(int64_t(0))), "precision");
        const std::string method = args.get(1, "method", value("common")).to_str();
        if (!subject.is_number() && !subject.is_bool()) {
            fail_at(at, "round needs a number, got '" + subject.type_name() + "'");
        }
        const double scale = std::pow(10.0, static_cast<double>(precision));
        const double x = subject.as_double() * scale;
        double r = 0;
        if (method == "common" && precision > 0 && precision <= 17) {
            // Python's round() rounds the exact binary value (2.675 -> 2.67); printf does the same.
            char buf[512];
            std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), subject.as_double());
            return value(std::strtod(buf, nullptr));
        }
        if (method == "common") {
            r = std::nearbyint(x); // Python's round(): halves go to the even neighbour
        } else if (method == "ceil") {
            r = std::ceil(x);
        } else if (method == "floor") {
            r = std::floor(x);
        } else {
            fail_at(at, "round method must be 'common', 'ceil' or 'floor'");
        }
        return value(r / scale);
    }
    if (name == "sum" || name == "min" || name == "max") {
        const value_list items = iterate(at, subject);
        if (name == "sum") {
            value total = args.get(1, "start", value(int64_t(0)));
            for (const value & item : items) {
                if (!(item.is_number() || item.is_bool()) || !(total.is_number() || total.is_bool())) {
                    fail_at(at, "sum needs numbers");
                }
                total = (item.is_float() || total.is_float()) ? value(total.as_double() + item.as_double())
                                                              : value(total.as_int() + (item.is_bool() ? item.as_bool() : item.as_int()));
            }
            return total;
        }
        if (items.empty()) {
            return value::undefined();
        }
        value best = items[0];
        try {
            for (const value & item : items) {
                const int c = item.compare(best);
                if (name == "min" ? c < 0 : c > 0) {
                    best = item;
                }
            }
        } catch (const std::invalid_argument & e) {
            fail_at(at, e.what());
        }
        return best;
    }
    fail_unsupported_at(at, "unsupported filter '" + name + "'");
}

bool apply_test(evaluator & ev, const expr & at, const std::string & name, const value & v, call_args & args) {
    (void)ev;
    if (name == "defined") {
        return !v.is_undefined();
    }
    if (name == "undefined") {
        return v.is_undefined();
    }
    if (name == "none") {
        return v.is_none();
    }
    if (name == "string") {
        return v.is_string();
    }
    if (name == "mapping") {
        return v.is_dict() && !v.dict().is_namespace;
    }
    if (name == "iterable") {
        return v.is_string() || v.is_list() || (v.is_dict() && !v.dict().is_namespace) || v.is_undefined();
    }
    if (name == "sequence") {
        return v.is_string() || v.is_list() || (v.is_dict() && !v.dict().is_namespace) || v.is_undefined();
    }
    if (name == "number") {
        return v.is_number() || v.is_bool();
    }
    if (name == "integer") {
        return v.is_int();
    }
    if (name == "float") {
        return v.is_float();
    }
    if (name == "boolean") {
        return v.is_bool();
    }
    if (name == "true") {
        return v.is_bool() && v.as_bool();
    }
    if (name == "false") {
        return v.is_bool() && !v.as_bool();
    }
    if (name == "callable") {
        return v.is_callable();
    }
    if (name == "escaped") {
        return false;
    }
    if (name == "lower" || name == "upper") {
        const std::string s = v.to_str();
        return name == "lower" ? ascii_lower(s) == s : ascii_upper(s) == s;
    }
    if (name == "odd" || name == "even" || name == "divisibleby") {
        const int64_t i = int_arg(at, v, "test subject");
        if (name == "divisibleby") {
            const int64_t d = int_arg(at, args.get(0, "num"), "divisor");
            if (d == 0) {
                fail_at(at, "divisibleby 0");
            }
            return i % d == 0;
        }
        return (i % 2 != 0) == (name == "odd");
    }
    const value other = args.get(0, "other");
    if (name == "eq" || name == "equalto" || name == "==") {
        return v.equals(other);
    }
    if (name == "ne" || name == "!=") {
        return !v.equals(other);
    }
    if (name == "sameas") {
        if (v.kind() != other.kind()) {
            return false;
        }
        if (v.is_list() || v.is_dict()) {
            return (v.is_list() && &v.list() == &other.list()) || (v.is_dict() && &v.dict() == &other.dict());
        }
        return v.equals(other);
    }
    if (name == "in") {
        if (other.is_string()) {
            return v.is_string() && other.as_string().find(v.as_string()) != std::string::npos;
        }
        if (other.is_list()) {
            for (const value & item : other.list()) {
                if (item.equals(v)) {
                    return true;
                }
            }
            return false;
        }
        if (other.is_dict()) {
            return v.is_string() && other.dict().find(v.as_string()) != nullptr;
        }
        fail_at(at, "'in' test needs a container");
    }
    int c = 0;
    try {
        c = v.compare(other);
    } catch (const std::invalid_argument & e) {
        fail_at(at, e.what());
    }
    if (name == "lt" || name == "<") {
        return c < 0;
    }
    if (name == "le" || name == "<=") {
        return c <= 0;
    }
    if (name == "gt" || name == ">") {
        return c > 0;
    }
    if (name == "ge" || name == ">=") {
        return c >= 0;
    }
    fail_unsupported_at(at, "unsupported test '" + name + "'");
}

value call_method(evaluator & ev, const expr & at, const value & object, const std::string & name, call_args & args) {
    (void)ev;
    if (object.is_string()) {
        const std::string & s = object.as_string();
        if (name == "strip" || name == "lstrip" || name == "rstrip") {
            return value(python_strip(s, args.get(0, "chars", value::none()), name != "rstrip", name != "lstrip"));
        }
        if (name == "split") {
            const value maxsplit = args.get(1, "maxsplit", value(int64_t(-1)));
            return python_split(at, s, args.get(0, "sep", value::none()), int_arg(at, maxsplit, "maxsplit"));
        }
        if (name == "startswith" || name == "endswith") {
            const value arg = args.get(0, "prefix");
            value_list options = arg.is_list() ? arg.list() : value_list{arg};
            for (const value & o : options) {
                const std::string p = str_arg(at, o, name == "startswith" ? "prefix" : "suffix");
                const bool hit = name == "startswith"
                                     ? s.compare(0, p.size(), p) == 0
                                     : (s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0);
                if (hit) {
                    return value(true);
                }
            }
            return value(false);
        }
        if (name == "replace") {
            const value count = args.get(2, "count", value(int64_t(-1)));
            return value(python_replace(s, str_arg(at, args.get(0, "old"), "old"), str_arg(at, args.get(1, "new"), "new"),
                                        int_arg(at, count, "count")));
        }
        if (name == "upper") {
            return value(ascii_upper(s));
        }
        if (name == "lower") {
            return value(ascii_lower(s));
        }
        if (name == "title") {
            return value(python_title(s));
        }
        if (name == "capitalize") {
            return value(python_capitalize(s));
        }
        if (name == "find" || name == "count") {
            const std::string needle = str_arg(at, args.get(0, "sub"), "substring");
            if (name == "find") {
                const size_t pos = s.find(needle);
                if (pos == std::string::npos) {
                    return value(int64_t(-1));
                }
                return value(static_cast<int64_t>(utf8_decode(s.substr(0, pos)).size()));
            }
            if (needle.empty()) {
                return value(static_cast<int64_t>(utf8_decode(s).size() + 1));
            }
            int64_t n = 0;
            for (size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + needle.size())) {
                ++n;
            }
            return value(n);
        }
        if (name == "join") {
            std::string out;
            bool first = true;
            for (const value & item : iterate(at, args.get(0, "iterable"))) {
                out += (first ? "" : s) + str_arg(at, item, "join item");
                first = false;
            }
            return value(std::move(out));
        }
    } else if (object.is_dict()) {
        const value_dict & d = object.dict();
        if (name == "get") {
            const value key = args.get(0, "key");
            const value * found = key.is_string() ? d.find(key.as_string()) : nullptr;
            return found ? *found : args.get(1, "default", value::none());
        }
        if (name == "items" || name == "keys" || name == "values") {
            value_list out;
            for (const auto & [k, v] : d.entries) {
                out.push_back(name == "items" ? value::make_tuple({value(k), v}) : name == "keys" ? value(k) : v);
            }
            return value::make_list(std::move(out));
        }
    }
    if (object.is_list() && (name == "append" || name == "extend" || name == "pop" || name == "insert")) {
        fail_unsupported_at(at, "unsupported method '" + name + "' of list: chat templates cannot mutate lists");
    }
    fail_unsupported_at(at, "unsupported method '" + name + "' of '" + object.type_name() + "'");
}

void add_global_functions(variables & globals) {
    auto where = [](const call_args & a) {
        expr at;
        at.line = a.line;
        at.col = a.col;
        return at;
    };
    globals["raise_exception"] = value::make_callable("raise_exception", [where](call_args & a) -> value {
        throw Error(ErrorCode::invalid_argument, location_prefix(a.line, a.col) + a.get(0, "message").to_str());
        (void)where;
    });
    globals["strftime_now"] = value::make_callable("strftime_now", [where](call_args & a) -> value {
        const std::string fmt = str_arg(where(a), a.get(0, "format"), "format");
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        localtime_r(&now, &tm);
        char buf[256];
        const size_t n = std::strftime(buf, sizeof(buf), fmt.c_str(), &tm);
        return value(std::string(buf, n));
    });
    auto make_dict = [where](call_args & a, value d) {
        if (!a.args.empty()) {
            const value src = a.args[0];
            if (!src.is_dict()) {
                fail_at(where(a), "dict() / namespace() positional argument must be a mapping");
            }
            for (const auto & [k, v] : src.dict().entries) {
                d.dict().set(k, v);
            }
        }
        for (const auto & [k, v] : a.kwargs) {
            d.dict().set(k, v);
        }
        return d;
    };
    globals["namespace"] = value::make_callable("namespace", [make_dict](call_args & a) {
        return make_dict(a, value::make_namespace());
    });
    globals["dict"] = value::make_callable("dict", [make_dict](call_args & a) { return make_dict(a, value::make_dict()); });
    globals["range"] = value::make_callable("range", [where](call_args & a) {
        const expr at = where(a);
        int64_t start = 0;
        int64_t stop = 0;
        int64_t step = 1;
        if (a.args.size() == 1) {
            stop = int_arg(at, a.args[0], "range stop");
        } else if (a.args.size() >= 2) {
            start = int_arg(at, a.args[0], "range start");
            stop = int_arg(at, a.args[1], "range stop");
            if (a.args.size() >= 3) {
                step = int_arg(at, a.args[2], "range step");
            }
        }
        if (step == 0) {
            fail_at(at, "range() step must not be zero");
        }
        value_list out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (out.size() >= 100'000) {
                fail_at(at, "range() longer than 100000 items");
            }
            out.emplace_back(i);
        }
        return value::make_list(std::move(out));
    });
}

} // namespace v4::jinja
