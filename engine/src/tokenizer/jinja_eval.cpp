#include "tokenizer/jinja_eval.h"

#include "tokenizer/jinja_lexer.h"
#include "v4/error.h"

#include <climits>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace v4::jinja {

void fail_at(const expr & at, const std::string & what) {
    throw Error(ErrorCode::invalid_argument, location_prefix(at.line, at.col) + what);
}

void fail_unsupported_at(const expr & at, const std::string & what) {
    throw Error(ErrorCode::unsupported, location_prefix(at.line, at.col) + what);
}

static std::string undefined_message(const value & v) {
    return v.undefined_name().empty() ? std::string("value is undefined") : "'" + v.undefined_name() + "' is undefined";
}

value get_attr(const value & object, const std::string & name) {
    if (object.is_dict()) {
        if (const value * v = object.dict().find(name)) {
            return *v;
        }
    }
    return value::undefined(name);
}

size_t value_length(const value & v) {
    if (v.is_string()) {
        return utf8_decode(v.as_string()).size();
    }
    if (v.is_list()) {
        return v.list().size();
    }
    if (v.is_dict()) {
        return v.dict().entries.size();
    }
    return 0;
}

value get_item(const expr & at, const value & object, const value & key) {
    if (object.is_dict()) {
        if (key.is_string()) {
            if (const value * v = object.dict().find(key.as_string())) {
                return *v;
            }
            return value::undefined(key.as_string());
        }
        return value::undefined();
    }
    if ((object.is_list() || object.is_string()) && (key.is_int() || key.is_bool())) {
        int64_t i = key.is_bool() ? key.as_bool() : key.as_int();
        if (object.is_list()) {
            const auto n = static_cast<int64_t>(object.list().size());
            if (i < 0) {
                i += n;
            }
            return (i >= 0 && i < n) ? object.list()[static_cast<size_t>(i)] : value::undefined();
        }
        const auto cps = utf8_decode(object.as_string());
        const auto n = static_cast<int64_t>(cps.size());
        if (i < 0) {
            i += n;
        }
        if (i < 0 || i >= n) {
            return value::undefined();
        }
        return value(utf8_encode(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
    }
    if (object.is_undefined() || object.is_none() || object.is_list() || object.is_string()) {
        return value::undefined(key.is_string() ? key.as_string() : std::string());
    }
    fail_at(at, "'" + object.type_name() + "' object is not subscriptable");
}

value_list iterate(const expr & at, const value & v) {
    if (v.is_list()) {
        return v.list();
    }
    if (v.is_dict() && !v.dict().is_namespace) {
        value_list keys;
        for (const auto & [k, item] : v.dict().entries) {
            (void)item;
            keys.emplace_back(k);
        }
        return keys;
    }
    if (v.is_string()) {
        const auto cps = utf8_decode(v.as_string());
        value_list chars;
        for (size_t i = 0; i < cps.size(); ++i) {
            chars.emplace_back(utf8_encode(cps, i, i + 1));
        }
        return chars;
    }
    if (v.is_undefined()) {
        return {};
    }
    fail_at(at, "'" + v.type_name() + "' object is not iterable");
}

namespace {

struct loop_break {};
struct loop_continue {};

// Python slicing (start:stop:step with negatives and clamping) over n items.
std::vector<size_t> slice_indices(const expr & at, int64_t n, const value & start_v, const value & stop_v,
                                  const value & step_v) {
    auto as_index = [&](const value & v, const char * what) -> std::optional<int64_t> {
        if (v.is_undefined() || v.is_none()) {
            return std::nullopt;
        }
        if (!v.is_int() && !v.is_bool()) {
            fail_at(at, std::string("slice ") + what + " must be an integer or none");
        }
        return v.is_bool() ? v.as_bool() : v.as_int();
    };
    const int64_t step = as_index(step_v, "step").value_or(1);
    if (step == 0) {
        fail_at(at, "slice step cannot be zero");
    }
    auto clamp = [&](std::optional<int64_t> idx, int64_t def) {
        if (!idx) {
            return def;
        }
        int64_t i = *idx;
        if (i < 0) {
            i += n;
            if (i < 0) {
                i = step < 0 ? -1 : 0;
            }
        } else if (i >= n) {
            i = step < 0 ? n - 1 : n;
        }
        return i;
    };
    const int64_t start = clamp(as_index(start_v, "start"), step < 0 ? n - 1 : 0);
    const int64_t stop = clamp(as_index(stop_v, "stop"), step < 0 ? -1 : n);
    std::vector<size_t> out;
    if (step > 0) {
        for (int64_t i = start; i < stop; i += step) {
            out.push_back(static_cast<size_t>(i));
        }
    } else {
        for (int64_t i = start; i > stop; i += step) {
            out.push_back(static_cast<size_t>(i));
        }
    }
    return out;
}

// Python ints do not overflow; ours are 64-bit, so an overflow is an error rather than a wrong number.
int64_t checked_op(const expr & at, char op, int64_t a, int64_t b) {
    int64_t r = 0;
    const bool overflow = op == '+' ? __builtin_add_overflow(a, b, &r)
                        : op == '-' ? __builtin_sub_overflow(a, b, &r)
                                    : __builtin_mul_overflow(a, b, &r);
    if (overflow) {
        fail_at(at, "integer overflow");
    }
    return r;
}

} // namespace

class evaluator {
public:
    evaluator(const variables & globals, const render_limits & limits) : m_limits(limits) {
        m_scopes.push_back(globals);
        add_global_functions(m_scopes.back());
        m_scopes.emplace_back(); // template top level
    }

    std::string run(const node_list & body) {
        exec_body(body);
        return std::move(m_out);
    }

    value eval(const expr & e);

private:
    void write(const std::string & s, const node & at) {
        if (m_out.size() + s.size() > m_limits.max_output_bytes) {
            throw Error(ErrorCode::invalid_argument,
                        location_prefix(at.line, at.col) + "rendered output exceeds the limit of " +
                            std::to_string(m_limits.max_output_bytes) + " bytes");
        }
        m_out += s;
    }

    value lookup(const std::string & name) const {
        for (auto it = m_scopes.rbegin(); it != m_scopes.rend(); ++it) {
            auto found = it->find(name);
            if (found != it->end()) {
                return found->second;
            }
        }
        return value::undefined(name);
    }

    void exec_body(const node_list & body) {
        for (const auto & n : body) {
            exec(*n);
        }
    }

    void exec(const node & n);
    void exec_for(const node & n);
    void assign(const node & n, const std::vector<std::string> & targets, const value & v);
    value call_macro(const node & macro, call_args & args, const expr & at);
    value eval_binary(const expr & e);
    value eval_compare(const expr & e);
    value eval_call(const expr & e);
    call_args eval_args(const expr & e, size_t first);

    render_limits m_limits;
    std::vector<variables> m_scopes;
    std::string m_out;
    // Real templates nest a few dozen levels. Each level costs two recursive frames (kilobytes under
    // ASan), so this stays far below what an 8 MiB thread stack holds.
    static constexpr int max_eval_depth = 500;

    size_t m_iterations = 0;
    int m_call_depth = 0;
    int m_eval_depth = 0;
};

void evaluator::exec(const node & n) {
    switch (n.kind) {
        case node_kind::text: write(n.text, n); break;
        case node_kind::output: write(eval(*n.value).to_str(), n); break;
        case node_kind::if_: {
            for (const auto & [cond, body] : n.branches) {
                if (eval(*cond).truthy()) {
                    exec_body(body);
                    return;
                }
            }
            exec_body(n.else_body);
            break;
        }
        case node_kind::for_: exec_for(n); break;
        case node_kind::set: {
            value v = eval(*n.value);
            if (!n.attr.empty()) {
                value target = lookup(n.targets[0]);
                if (!target.is_dict() || !target.dict().is_namespace) {
                    fail_at(*n.value, "cannot assign attribute '" + n.attr + "' on '" + n.targets[0] +
                                          "': it is not a namespace()");
                }
                target.dict().set(n.attr, std::move(v));
            } else {
                assign(n, n.targets, v);
            }
            break;
        }
        case node_kind::set_block: {
            std::string saved = std::move(m_out);
            m_out.clear();
            exec_body(n.body);
            std::string captured = std::move(m_out);
            m_out = std::move(saved);
            m_scopes.back()[n.targets[0]] = value(std::move(captured));
            break;
        }
        case node_kind::macro: {
            const node * macro = &n;
            m_scopes.back()[n.text] = value::make_callable(n.text, [this, macro](call_args & args) {
                expr at;
                at.line = args.line;
                at.col = args.col;
                return call_macro(*macro, args, at);
            });
            break;
        }
        case node_kind::sequence: exec_body(n.body); break;
        case node_kind::break_: throw loop_break{};
        case node_kind::continue_: throw loop_continue{};
    }
}

void evaluator::assign(const node & n, const std::vector<std::string> & targets, const value & v) {
    if (targets.size() == 1) {
        m_scopes.back()[targets[0]] = v;
        return;
    }
    expr at;
    at.line = n.line;
    at.col = n.col;
    value_list items = iterate(at, v);
    if (items.size() != targets.size()) {
        fail_at(at, "cannot unpack " + std::to_string(items.size()) + " values into " +
                        std::to_string(targets.size()) + " names");
    }
    for (size_t i = 0; i < targets.size(); ++i) {
        m_scopes.back()[targets[i]] = items[i];
    }
}

void evaluator::exec_for(const node & n) {
    const value_list all = iterate(*n.value, eval(*n.value));
    value_list items;
    if (n.filter) {
        for (const value & item : all) {
            m_scopes.emplace_back();
            assign(n, n.targets, item);
            const bool keep = eval(*n.filter).truthy();
            m_scopes.pop_back();
            if (keep) {
                items.push_back(item);
            }
        }
    } else {
        items = all;
    }
    const auto len = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < len; ++i) {
        if (++m_iterations > m_limits.max_loop_iterations) {
            throw Error(ErrorCode::invalid_argument, location_prefix(n.line, n.col) +
                                                         "loop iteration limit of " +
                                                         std::to_string(m_limits.max_loop_iterations) + " exceeded");
        }
        value loop = value::make_dict();
        auto & d = loop.dict();
        d.set("index", value(i + 1));
        d.set("index0", value(i));
        d.set("revindex", value(len - i));
        d.set("revindex0", value(len - i - 1));
        d.set("first", value(i == 0));
        d.set("last", value(i == len - 1));
        d.set("length", value(len));
        d.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : value::undefined("previtem"));
        d.set("nextitem", i + 1 < len ? items[static_cast<size_t>(i + 1)] : value::undefined("nextitem"));
        m_scopes.emplace_back();
        m_scopes.back()["loop"] = loop;
        assign(n, n.targets, items[static_cast<size_t>(i)]);
        bool stop = false;
        try {
            exec_body(n.body);
        } catch (const loop_break &) {
            stop = true;
        } catch (const loop_continue &) {
        }
        m_scopes.pop_back();
        if (stop) {
            break;
        }
    }
    if (len == 0) {
        exec_body(n.else_body);
    }
}

value evaluator::call_macro(const node & macro, call_args & args, const expr & at) {
    if (++m_call_depth > m_limits.max_call_depth) {
        fail_at(at, "macro call depth limit of " + std::to_string(m_limits.max_call_depth) + " exceeded");
    }
    if (args.args.size() > macro.params.size()) {
        fail_at(at, "macro '" + macro.text + "' takes " + std::to_string(macro.params.size()) + " arguments");
    }
    variables frame;
    for (size_t i = 0; i < macro.params.size(); ++i) {
        const auto & p = macro.params[i];
        value v = value::undefined(p.name);
        if (i < args.args.size()) {
            v = args.args[i];
        } else if (p.default_value) {
            v = eval(*p.default_value);
        }
        frame[p.name] = v;
    }
    for (const auto & [k, v] : args.kwargs) {
        bool known = false;
        for (const auto & p : macro.params) {
            known = known || p.name == k;
        }
        if (!known) {
            fail_at(at, "macro '" + macro.text + "' has no parameter '" + k + "'");
        }
        frame[k] = v;
    }
    // A macro sees the globals and the template's top level, not its caller's locals.
    std::vector<variables> saved = std::move(m_scopes);
    m_scopes = {saved[0], saved[1], std::move(frame)};
    std::string saved_out = std::move(m_out);
    m_out.clear();
    try {
        exec_body(macro.body);
    } catch (...) {
        saved[1] = std::move(m_scopes[1]);
        m_scopes = std::move(saved);
        m_out = std::move(saved_out);
        --m_call_depth;
        throw;
    }
    std::string result = std::move(m_out);
    saved[1] = std::move(m_scopes[1]);
    m_scopes = std::move(saved);
    m_out = std::move(saved_out);
    --m_call_depth;
    return value(std::move(result));
}

call_args evaluator::eval_args(const expr & e, size_t first) {
    call_args a;
    a.line = e.line;
    a.col = e.col;
    for (size_t i = first; i < e.args.size(); ++i) {
        a.args.push_back(eval(*e.args[i]));
    }
    for (const auto & [k, v] : e.kwargs) {
        a.kwargs.emplace_back(k, eval(*v));
    }
    return a;
}

value evaluator::eval_call(const expr & e) {
    const expr & callee = *e.args[0];
    if (callee.kind == expr_kind::attr) {
        value object = eval(*callee.args[0]);
        if (object.is_string() || object.is_list() || (object.is_dict() && !object.dict().is_namespace)) {
            call_args args = eval_args(e, 1);
            return call_method(*this, callee, object, callee.name, args);
        }
    }
    value fn = eval(callee);
    if (fn.is_undefined()) {
        fail_at(callee, undefined_message(fn) + " (not callable)");
    }
    if (!fn.is_callable()) {
        fail_at(callee, "'" + fn.type_name() + "' object is not callable");
    }
    call_args args = eval_args(e, 1);
    return fn.callable().fn(args);
}

value evaluator::eval_binary(const expr & e) {
    const std::string & op = e.name;
    if (op == "and") {
        value a = eval(*e.args[0]);
        return a.truthy() ? eval(*e.args[1]) : a;
    }
    if (op == "or") {
        value a = eval(*e.args[0]);
        return a.truthy() ? a : eval(*e.args[1]);
    }
    const value a = eval(*e.args[0]);
    const value b = eval(*e.args[1]);
    if (op == "~") {
        return value(a.to_str() + b.to_str());
    }
    if (a.is_undefined()) {
        fail_at(*e.args[0], undefined_message(a));
    }
    if (b.is_undefined()) {
        fail_at(*e.args[1], undefined_message(b));
    }
    const bool num = (a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool());
    auto type_error = [&]() {
        fail_at(e, "unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
    };
    if (op == "+") {
        if (a.is_string() && b.is_string()) {
            return value(a.as_string() + b.as_string());
        }
        if (a.is_list() && b.is_list()) {
            value_list items = a.list();
            items.insert(items.end(), b.list().begin(), b.list().end());
            return value::make_list(std::move(items));
        }
        if (a.is_string() || b.is_string()) {
            fail_at(e, "can only concatenate str (not \"" + (a.is_string() ? b : a).type_name() + "\") to str");
        }
    }
    if (op == "*" && ((a.is_string() || a.is_list()) != (b.is_string() || b.is_list()))) {
        const value & seq = (a.is_string() || a.is_list()) ? a : b;
        const value & count = (a.is_string() || a.is_list()) ? b : a;
        if (!count.is_int()) {
            type_error();
        }
        const int64_t times = std::max<int64_t>(0, count.as_int());
        const size_t unit = seq.is_string() ? seq.as_string().size() : seq.list().size();
        if (unit * static_cast<size_t>(times) > m_limits.max_output_bytes) {
            fail_at(e, "repetition result too large");
        }
        if (seq.is_string()) {
            std::string out;
            for (int64_t i = 0; i < times; ++i) {
                out += seq.as_string();
            }
            return value(std::move(out));
        }
        value_list out;
        for (int64_t i = 0; i < times; ++i) {
            out.insert(out.end(), seq.list().begin(), seq.list().end());
        }
        return value::make_list(std::move(out));
    }
    if (!num) {
        type_error();
    }
    const bool ints = !a.is_float() && !b.is_float();
    const int64_t ia = a.is_bool() ? a.as_bool() : a.as_int();
    const int64_t ib = b.is_bool() ? b.as_bool() : b.as_int();
    const double fa = a.as_double();
    const double fb = b.as_double();
    if (op == "+" || op == "-" || op == "*") {
        if (ints) {
            return value(checked_op(e, op[0], ia, ib));
        }
        return value(op == "+" ? fa + fb : op == "-" ? fa - fb : fa * fb);
    }
    if (op == "/") {
        if (fb == 0.0) {
            fail_at(e, "division by zero");
        }
        return value(fa / fb);
    }
    if (op == "//" || op == "%") {
        if (ints ? ib == 0 : fb == 0.0) {
            fail_at(e, op == "//" ? "integer division or modulo by zero" : "modulo by zero");
        }
        if (ints) {
            if (ia == INT64_MIN && ib == -1) {
                fail_at(e, "integer overflow");
            }
            int64_t q = ia / ib;
            int64_t m = ia % ib;
            if (m != 0 && ((m < 0) != (ib < 0))) {
                --q;
                m += ib;
            }
            return op == "//" ? value(q) : value(m);
        }
        const double q = std::floor(fa / fb);
        return op == "//" ? value(q) : value(fa - q * fb);
    }
    if (op == "**") {
        if (ints && ib >= 0) {
            int64_t acc = 1;
            for (int64_t i = 0; i < ib; ++i) {
                if (__builtin_mul_overflow(acc, ia, &acc)) {
                    fail_at(e, "integer overflow");
                }
                if (acc == 0 || acc == 1) {
                    break;
                }
            }
            if (acc == 1 && ia == -1) {
                acc = (ib % 2) ? -1 : 1;
            }
            return value(acc);
        }
        return value(std::pow(fa, fb));
    }
    type_error();
    return value();
}

value evaluator::eval_compare(const expr & e) {
    value left = eval(*e.args[0]);
    for (size_t i = 0; i < e.ops.size(); ++i) {
        value right = eval(*e.args[i + 1]);
        const std::string & op = e.ops[i];
        bool ok = false;
        if (op == "==") {
            ok = left.equals(right);
        } else if (op == "!=") {
            ok = !left.equals(right);
        } else if (op == "in" || op == "not in") {
            bool found = false;
            if (right.is_string()) {
                if (!left.is_string()) {
                    fail_at(e, "'in <string>' requires string as left operand, not " + left.type_name());
                }
                found = right.as_string().find(left.as_string()) != std::string::npos;
            } else if (right.is_list()) {
                for (const value & item : right.list()) {
                    found = found || item.equals(left);
                }
            } else if (right.is_dict()) {
                found = left.is_string() && right.dict().find(left.as_string()) != nullptr;
            } else if (!right.is_undefined()) {
                fail_at(e, "argument of type '" + right.type_name() + "' is not iterable");
            }
            ok = (op == "in") == found;
        } else {
            int c = 0;
            try {
                c = left.compare(right);
            } catch (const std::invalid_argument & ex) {
                fail_at(e, ex.what());
            }
            ok = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
        }
        if (!ok) {
            return value(false);
        }
        left = std::move(right);
    }
    return value(true);
}

value evaluator::eval(const expr & e) {
    // Long operator chains (1 + 1 + ... or x|trim|trim|...) parse without recursion but evaluate with it.
    struct depth_guard {
        int & depth;
        explicit depth_guard(int & d) : depth(d) { ++depth; }
        ~depth_guard() { --depth; }
    } guard(m_eval_depth);
    if (m_eval_depth > max_eval_depth) {
        fail_at(e, "expression nested too deeply (more than " + std::to_string(max_eval_depth) + " levels)");
    }
    switch (e.kind) {
        case expr_kind::literal: return e.lit;
        case expr_kind::name: return lookup(e.name);
        case expr_kind::list:
        case expr_kind::tuple: {
            value_list items;
            for (const auto & a : e.args) {
                items.push_back(eval(*a));
            }
            return e.kind == expr_kind::tuple ? value::make_tuple(std::move(items)) : value::make_list(std::move(items));
        }
        case expr_kind::dict: {
            value d = value::make_dict();
            for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
                value key = eval(*e.args[i]);
                if (!key.is_string()) {
                    fail_unsupported_at(*e.args[i], "unsupported dict key of type '" + key.type_name() + "'");
                }
                d.dict().set(key.as_string(), eval(*e.args[i + 1]));
            }
            return d;
        }
        case expr_kind::attr: return get_attr(eval(*e.args[0]), e.name);
        case expr_kind::item: {
            value object = eval(*e.args[0]);
            return get_item(e, object, eval(*e.args[1]));
        }
        case expr_kind::slice: {
            value object = eval(*e.args[0]);
            auto part = [&](size_t i) { return e.args[i] ? eval(*e.args[i]) : value::none(); };
            const value start = part(1);
            const value stop = part(2);
            const value step = part(3);
            if (object.is_list()) {
                value_list out;
                for (size_t i : slice_indices(e, static_cast<int64_t>(object.list().size()), start, stop, step)) {
                    out.push_back(object.list()[i]);
                }
                return value::make_list(std::move(out));
            }
            if (object.is_string()) {
                const auto cps = utf8_decode(object.as_string());
                std::string out;
                for (size_t i : slice_indices(e, static_cast<int64_t>(cps.size()), start, stop, step)) {
                    out += utf8_encode(cps, i, i + 1);
                }
                return value(std::move(out));
            }
            if (object.is_undefined()) {
                return object;
            }
            fail_at(e, "'" + object.type_name() + "' object is not subscriptable");
        }
        case expr_kind::call: return eval_call(e);
        case expr_kind::filter: {
            value subject = eval(*e.args[0]);
            call_args args = eval_args(e, 1);
            return apply_filter(*this, e, e.name, subject, args);
        }
        case expr_kind::test: {
            value subject = eval(*e.args[0]);
            call_args args = eval_args(e, 1);
            return value(apply_test(*this, e, e.name, subject, args) != e.negated);
        }
        case expr_kind::unary: {
            value v = eval(*e.args[0]);
            if (e.name == "not") {
                return value(!v.truthy());
            }
            if (v.is_undefined()) {
                fail_at(e, undefined_message(v));
            }
            if (!v.is_number() && !v.is_bool()) {
                fail_at(e, "bad operand type for unary " + e.name + ": '" + v.type_name() + "'");
            }
            if (e.name == "+") {
                return v.is_float() ? v : value(v.is_bool() ? int64_t(v.as_bool()) : v.as_int());
            }
            if (v.is_float()) {
                return value(-v.as_double());
            }
            const int64_t i = v.is_bool() ? v.as_bool() : v.as_int();
            if (i == INT64_MIN) {
                fail_at(e, "integer overflow");
            }
            return value(-i);
        }
        case expr_kind::binary: return eval_binary(e);
        case expr_kind::compare: return eval_compare(e);
        case expr_kind::ternary:
            if (eval(*e.args[1]).truthy()) {
                return eval(*e.args[0]);
            }
            return e.args[2] ? eval(*e.args[2]) : value::undefined();
    }
    return value();
}

std::string render_program(const program & prog, const variables & vars, const render_limits & limits) {
    evaluator ev(vars, limits);
    try {
        return ev.run(prog.body);
    } catch (const loop_break &) {
        throw Error(ErrorCode::invalid_argument, "chat template: '{% break %}' outside of a loop");
    } catch (const loop_continue &) {
        throw Error(ErrorCode::invalid_argument, "chat template: '{% continue %}' outside of a loop");
    }
}

} // namespace v4::jinja
