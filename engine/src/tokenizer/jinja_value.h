// Values of the chat-template interpreter: the Python objects a Jinja template can see (None, bool, int, float,
// str, list, dict, a namespace, a callable) plus Jinja's Undefined. Lists and dicts are shared by reference as in
// Python, so `set ns.x = ...` on a namespace is seen by every holder of it. Strings are UTF-8 bytes; the few
// operations whose Python meaning depends on code points (length, indexing, slicing) decode on the fly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace v4::jinja {

class value;
struct call_args;

using value_list = std::vector<value>;

// Insertion-ordered string-keyed map, like a Python dict built from JSON. Chat data is small, so a linear
// search beats a hash map here.
struct value_dict {
    std::vector<std::pair<std::string, value>> entries;
    bool is_namespace = false;

    const value * find(const std::string & key) const;
    void set(const std::string & key, value v);
};

// A built-in or a macro. `name` is what error messages and repr() show.
struct value_callable {
    std::string name;
    std::function<value(call_args &)> fn;
};

enum class value_kind { undefined, none, boolean, integer, floating, string, list, dict, callable };

class value {
public:
    value() = default; // undefined
    static value none();
    static value undefined(std::string name = {});
    value(bool b);
    value(int64_t i);
    value(int i) : value(static_cast<int64_t>(i)) {}
    value(double f);
    value(std::string s);
    value(const char * s) : value(std::string(s)) {}
    static value make_list(value_list items = {});
    // A Python tuple: a list that prints as (a, b) and never equals a list.
    static value make_tuple(value_list items = {});
    static value make_dict();
    static value make_namespace();
    static value make_callable(std::string name, std::function<value(call_args &)> fn);

    value_kind kind() const { return m_kind; }
    bool is_undefined() const { return m_kind == value_kind::undefined; }
    bool is_none() const { return m_kind == value_kind::none; }
    bool is_bool() const { return m_kind == value_kind::boolean; }
    bool is_int() const { return m_kind == value_kind::integer; }
    bool is_float() const { return m_kind == value_kind::floating; }
    bool is_number() const { return is_int() || is_float(); } // Python: bool is an int too, see is_number_test
    bool is_string() const { return m_kind == value_kind::string; }
    bool is_list() const { return m_kind == value_kind::list; } // lists and tuples
    bool is_tuple() const { return m_kind == value_kind::list && m_tuple; }
    bool is_dict() const { return m_kind == value_kind::dict; }
    bool is_callable() const { return m_kind == value_kind::callable; }

    bool as_bool() const { return m_bool; }
    int64_t as_int() const { return m_int; }
    double as_double() const { return is_float() ? m_float : static_cast<double>(is_bool() ? m_bool : m_int); }
    const std::string & as_string() const { return m_str; }
    value_list & list() const { return *m_list; }
    value_dict & dict() const { return *m_dict; }
    const value_callable & callable() const { return *m_fn; }

    // The name of the variable an undefined value came from ("" when unknown), for error messages.
    const std::string & undefined_name() const { return m_str; }

    bool truthy() const;
    std::string type_name() const;

    // Python str(): what {{ x }} prints. Undefined prints as "".
    std::string to_str() const;
    // Python repr(), used when a list or dict is printed.
    std::string repr() const;
    // json.dumps(x, ensure_ascii=False, indent=indent) as transformers' tojson filter calls it.
    std::string to_json(int indent, int depth = 0) const;

    bool equals(const value & other) const;
    // Python ordering for numbers and strings; throws std::invalid_argument for other pairs.
    int compare(const value & other) const;

private:
    value_kind m_kind = value_kind::undefined;
    bool m_bool = false;
    int64_t m_int = 0;
    double m_float = 0.0;
    bool m_tuple = false;
    std::string m_str;
    std::shared_ptr<value_list> m_list;
    std::shared_ptr<value_dict> m_dict;
    std::shared_ptr<value_callable> m_fn;
};

// Arguments of a call, positional then keyword, with where the call is for error messages.
struct call_args {
    value_list args;
    std::vector<std::pair<std::string, value>> kwargs;
    int line = 0;
    int col = 0;

    // The n-th positional argument, or the keyword argument `name`, or `fallback`.
    value get(size_t n, const char * name, value fallback = value()) const;
};

// Python's repr() of a float: the shortest round-tripping digits, scientific outside [1e-4, 1e16).
std::string format_python_float(double f);

// UTF-8 helpers: code points of a string, and back.
std::vector<uint32_t> utf8_decode(const std::string & s);
std::string utf8_encode(const std::vector<uint32_t> & cps, size_t begin, size_t end);
bool is_python_space(uint32_t cp);

} // namespace v4::jinja
