#include "tokenizer/jinja_parser.h"

#include "tokenizer/jinja_lexer.h"
#include "v4/error.h"

#include <algorithm>
#include <initializer_list>

namespace v4::jinja {

namespace {

constexpr int max_nesting = 200; // expression and block nesting; deeper input is rejected, not a stack overflow

class parser {
public:
    explicit parser(std::vector<token> tokens) : m_toks(std::move(tokens)) {}

    std::shared_ptr<program> run() {
        auto prog = std::make_shared<program>();
        std::string end_tag;
        prog->body = parse_body({}, end_tag);
        std::sort(m_names.begin(), m_names.end());
        m_names.erase(std::unique(m_names.begin(), m_names.end()), m_names.end());
        prog->names = std::move(m_names);
        return prog;
    }

private:
    const token & cur() const { return m_toks[m_pos]; }
    const token & peek(size_t k = 1) const { return m_toks[std::min(m_pos + k, m_toks.size() - 1)]; }
    void advance() {
        if (m_pos + 1 < m_toks.size()) {
            ++m_pos;
        }
    }
    bool is_op(const char * op) const { return cur().kind == token_kind::op && cur().text == op; }
    bool is_name(const char * name) const { return cur().kind == token_kind::name && cur().text == name; }
    bool skip_op(const char * op) {
        if (is_op(op)) {
            advance();
            return true;
        }
        return false;
    }
    bool skip_name(const char * name) {
        if (is_name(name)) {
            advance();
            return true;
        }
        return false;
    }

    [[noreturn]] void fail(const token & t, const std::string & what, ErrorCode code = ErrorCode::format) const {
        throw Error(code, location_prefix(t.line, t.col) + what);
    }

    static std::string describe(const token & t) {
        switch (t.kind) {
            case token_kind::eof: return "end of template";
            case token_kind::text: return "text";
            case token_kind::var_end: return "'}}'";
            case token_kind::block_end: return "'%}'";
            case token_kind::var_begin: return "'{{'";
            case token_kind::block_begin: return "'{%'";
            case token_kind::string: return "string literal";
            default: return "'" + t.text + "'";
        }
    }

    void expect_op(const char * op) {
        if (!skip_op(op)) {
            fail(cur(), std::string("expected '") + op + "', got " + describe(cur()));
        }
    }
    void expect(token_kind kind, const char * what) {
        if (cur().kind != kind) {
            fail(cur(), std::string("expected ") + what + ", got " + describe(cur()));
        }
        advance();
    }
    std::string expect_name() {
        if (cur().kind != token_kind::name) {
            fail(cur(), "expected a name, got " + describe(cur()));
        }
        std::string n = cur().text;
        advance();
        return n;
    }

    expr_ptr make(expr_kind kind, const token & at) {
        auto e = std::make_unique<expr>();
        e->kind = kind;
        e->line = at.line;
        e->col = at.col;
        return e;
    }
    node_ptr make_node(node_kind kind, const token & at) {
        auto n = std::make_unique<node>();
        n->kind = kind;
        n->line = at.line;
        n->col = at.col;
        return n;
    }

    struct depth_guard {
        parser & p;
        explicit depth_guard(parser & pp) : p(pp) {
            if (++p.m_depth > max_nesting) {
                p.fail(p.cur(), "template nested too deeply (more than " + std::to_string(max_nesting) + " levels)");
            }
        }
        ~depth_guard() { --p.m_depth; }
    };

    node_list parse_body(std::initializer_list<const char *> end_tags, std::string & end_tag);
    node_ptr parse_statement(const token & tag_begin);
    node_ptr parse_for(const token & at);
    node_ptr parse_if(const token & at);
    node_ptr parse_set(const token & at);
    node_ptr parse_macro(const token & at);

    expr_ptr parse_expression(bool with_condexpr = true);
    expr_ptr parse_or();
    expr_ptr parse_and();
    expr_ptr parse_not();
    expr_ptr parse_compare();
    expr_ptr parse_binary_level(int level);
    expr_ptr parse_unary(bool with_filter);
    expr_ptr parse_primary();
    expr_ptr parse_postfix(expr_ptr e);
    expr_ptr parse_filter_expr(expr_ptr e);
    void parse_call_args(expr & call);

    std::vector<token> m_toks;
    size_t m_pos = 0;
    int m_depth = 0;
    std::vector<std::string> m_names;
};

node_list parser::parse_body(std::initializer_list<const char *> end_tags, std::string & end_tag) {
    depth_guard guard(*this);
    node_list body;
    while (true) {
        const token & t = cur();
        if (t.kind == token_kind::eof) {
            if (end_tags.size() != 0) {
                fail(t, std::string("unexpected end of template, expected '{% ") + *(end_tags.end() - 1) + " %}'");
            }
            return body;
        }
        if (t.kind == token_kind::text) {
            auto n = make_node(node_kind::text, t);
            n->text = t.text;
            body.push_back(std::move(n));
            advance();
        } else if (t.kind == token_kind::var_begin) {
            advance();
            auto n = make_node(node_kind::output, t);
            n->value = parse_expression();
            expect(token_kind::var_end, "'}}'");
            body.push_back(std::move(n));
        } else if (t.kind == token_kind::block_begin) {
            const token & tag = peek();
            if (tag.kind == token_kind::name) {
                for (const char * end : end_tags) {
                    if (tag.text == end) {
                        advance();
                        advance();
                        end_tag = end;
                        return body;
                    }
                }
            }
            advance();
            body.push_back(parse_statement(t));
        } else {
            fail(t, "unexpected " + describe(t));
        }
    }
}

// Statements and their errors are located at their '{%'.
node_ptr parser::parse_statement(const token & tag_begin) {
    const token at = tag_begin;
    if (cur().kind != token_kind::name) {
        fail(cur(), "expected a tag name after '{%', got " + describe(cur()));
    }
    const std::string tag = cur().text;
    advance();
    node_ptr n;
    if (tag == "for") {
        n = parse_for(at);
    } else if (tag == "if") {
        n = parse_if(at);
    } else if (tag == "set") {
        n = parse_set(at);
    } else if (tag == "macro") {
        n = parse_macro(at);
    } else if (tag == "break" || tag == "continue") {
        n = make_node(tag == "break" ? node_kind::break_ : node_kind::continue_, at);
        expect(token_kind::block_end, "'%}'");
    } else if (tag == "generation") {
        expect(token_kind::block_end, "'%}'");
        n = make_node(node_kind::sequence, at);
        std::string end;
        n->body = parse_body({"endgeneration"}, end);
        expect(token_kind::block_end, "'%}'");
    } else if (tag == "include" || tag == "import" || tag == "from" || tag == "extends" || tag == "block" ||
               tag == "call" || tag == "filter" || tag == "raw" || tag == "with" || tag == "autoescape" ||
               tag == "do" || tag == "trans") {
        fail(at, "unsupported tag '" + tag + "'", ErrorCode::unsupported);
    } else if (tag.rfind("end", 0) == 0 || tag == "elif" || tag == "else") {
        fail(at, "unexpected '{% " + tag + " %}'");
    } else {
        fail(at, "unsupported tag '" + tag + "'", ErrorCode::unsupported);
    }
    return n;
}

node_ptr parser::parse_for(const token & at) {
    auto n = make_node(node_kind::for_, at);
    n->targets.push_back(expect_name());
    while (skip_op(",")) {
        n->targets.push_back(expect_name());
    }
    if (!skip_name("in")) {
        fail(cur(), "expected 'in' in for loop, got " + describe(cur()));
    }
    n->value = parse_expression(false);
    if (skip_name("if")) {
        n->filter = parse_expression();
    }
    if (is_name("recursive")) {
        fail(cur(), "unsupported recursive for loop", ErrorCode::unsupported);
    }
    expect(token_kind::block_end, "'%}'");
    std::string end;
    n->body = parse_body({"endfor", "else"}, end);
    if (end == "else") {
        expect(token_kind::block_end, "'%}'");
        n->else_body = parse_body({"endfor"}, end);
    }
    expect(token_kind::block_end, "'%}'");
    return n;
}

node_ptr parser::parse_if(const token & at) {
    auto n = make_node(node_kind::if_, at);
    expr_ptr cond = parse_expression();
    while (true) {
        expect(token_kind::block_end, "'%}'");
        std::string end;
        node_list body = parse_body({"elif", "else", "endif"}, end);
        n->branches.emplace_back(std::move(cond), std::move(body));
        if (end == "elif") {
            cond = parse_expression();
            continue;
        }
        if (end == "else") {
            expect(token_kind::block_end, "'%}'");
            n->else_body = parse_body({"endif"}, end);
        }
        expect(token_kind::block_end, "'%}'");
        return n;
    }
}

node_ptr parser::parse_set(const token & at) {
    auto n = make_node(node_kind::set, at);
    n->targets.push_back(expect_name());
    if (skip_op(".")) {
        n->attr = expect_name();
    } else {
        while (skip_op(",")) {
            n->targets.push_back(expect_name());
        }
    }
    if (cur().kind == token_kind::block_end && n->attr.empty() && n->targets.size() == 1) {
        advance();
        n->kind = node_kind::set_block;
        std::string end;
        n->body = parse_body({"endset"}, end);
        expect(token_kind::block_end, "'%}'");
        return n;
    }
    expect_op("=");
    n->value = parse_expression();
    if (is_op(",")) { // {% set a = 1, 2 %} makes a tuple
        auto tuple = make(expr_kind::tuple, cur());
        tuple->args.push_back(std::move(n->value));
        while (skip_op(",")) {
            tuple->args.push_back(parse_expression());
        }
        n->value = std::move(tuple);
    }
    expect(token_kind::block_end, "'%}'");
    return n;
}

node_ptr parser::parse_macro(const token & at) {
    auto n = make_node(node_kind::macro, at);
    n->text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
        macro_param p;
        p.name = expect_name();
        if (skip_op("=")) {
            p.default_value = parse_expression();
        }
        n->params.push_back(std::move(p));
        if (!skip_op(",")) {
            break;
        }
    }
    expect_op(")");
    expect(token_kind::block_end, "'%}'");
    std::string end;
    n->body = parse_body({"endmacro"}, end);
    if (cur().kind == token_kind::name) {
        advance(); // {% endmacro name %}
    }
    expect(token_kind::block_end, "'%}'");
    return n;
}

expr_ptr parser::parse_expression(bool with_condexpr) {
    depth_guard guard(*this);
    expr_ptr e = parse_or();
    while (with_condexpr && is_name("if")) {
        auto t = make(expr_kind::ternary, cur());
        advance();
        t->args.push_back(std::move(e));
        t->args.push_back(parse_or());
        t->args.push_back(skip_name("else") ? parse_expression() : nullptr);
        e = std::move(t);
    }
    return e;
}

expr_ptr parser::parse_or() {
    expr_ptr e = parse_and();
    while (is_name("or")) {
        auto b = make(expr_kind::binary, cur());
        advance();
        b->name = "or";
        b->args.push_back(std::move(e));
        b->args.push_back(parse_and());
        e = std::move(b);
    }
    return e;
}

expr_ptr parser::parse_and() {
    expr_ptr e = parse_not();
    while (is_name("and")) {
        auto b = make(expr_kind::binary, cur());
        advance();
        b->name = "and";
        b->args.push_back(std::move(e));
        b->args.push_back(parse_not());
        e = std::move(b);
    }
    return e;
}

expr_ptr parser::parse_not() {
    if (is_name("not")) {
        depth_guard guard(*this);
        auto u = make(expr_kind::unary, cur());
        advance();
        u->name = "not";
        u->args.push_back(parse_not());
        return u;
    }
    return parse_compare();
}

expr_ptr parser::parse_compare() {
    const token at = cur();
    expr_ptr first = parse_binary_level(0);
    expr_ptr cmp;
    while (true) {
        std::string op;
        if (cur().kind == token_kind::op &&
            (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
             cur().text == ">" || cur().text == ">=")) {
            op = cur().text;
            advance();
        } else if (is_name("in")) {
            op = "in";
            advance();
        } else if (is_name("not") && peek().kind == token_kind::name && peek().text == "in") {
            op = "not in";
            advance();
            advance();
        } else {
            break;
        }
        if (!cmp) {
            cmp = make(expr_kind::compare, at);
            cmp->args.push_back(std::move(first));
        }
        cmp->ops.push_back(op);
        cmp->args.push_back(parse_binary_level(0));
    }
    return cmp ? std::move(cmp) : std::move(first);
}

// Levels, loosest first: + -, ~, * / // %, **. Jinja puts ~ between the additive and multiplicative operators.
expr_ptr parser::parse_binary_level(int level) {
    static const std::vector<std::vector<std::string>> levels = {{"+", "-"}, {"~"}, {"*", "/", "//", "%"}, {"**"}};
    if (level == static_cast<int>(levels.size())) {
        return parse_unary(true);
    }
    expr_ptr e = parse_binary_level(level + 1);
    while (cur().kind == token_kind::op) {
        const auto & ops = levels[static_cast<size_t>(level)];
        if (std::find(ops.begin(), ops.end(), cur().text) == ops.end()) {
            break;
        }
        auto b = make(expr_kind::binary, cur());
        b->name = cur().text;
        advance();
        b->args.push_back(std::move(e));
        b->args.push_back(parse_binary_level(level + 1));
        e = std::move(b);
    }
    return e;
}

expr_ptr parser::parse_unary(bool with_filter) {
    depth_guard guard(*this);
    expr_ptr e;
    if (is_op("-") || is_op("+")) {
        e = make(expr_kind::unary, cur());
        e->name = cur().text;
        advance();
        e->args.push_back(parse_unary(false));
    } else {
        e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) {
        e = parse_filter_expr(std::move(e));
    }
    return e;
}

expr_ptr parser::parse_primary() {
    const token t = cur();
    switch (t.kind) {
        case token_kind::name: {
            advance();
            auto e = make(expr_kind::literal, t);
            if (t.text == "true" || t.text == "True") {
                e->lit = value(true);
            } else if (t.text == "false" || t.text == "False") {
                e->lit = value(false);
            } else if (t.text == "none" || t.text == "None") {
                e->lit = value::none();
            } else {
                e->kind = expr_kind::name;
                e->name = t.text;
                m_names.push_back(t.text);
            }
            return e;
        }
        case token_kind::string: {
            std::string s;
            while (cur().kind == token_kind::string) { // adjacent literals concatenate
                s += cur().text;
                advance();
            }
            auto e = make(expr_kind::literal, t);
            e->lit = value(std::move(s));
            return e;
        }
        case token_kind::integer: {
            advance();
            auto e = make(expr_kind::literal, t);
            try {
                e->lit = value(static_cast<int64_t>(std::stoll(t.text)));
            } catch (const std::exception &) {
                fail(t, "integer literal out of range", ErrorCode::unsupported);
            }
            return e;
        }
        case token_kind::floating: {
            advance();
            auto e = make(expr_kind::literal, t);
            e->lit = value(std::stod(t.text));
            return e;
        }
        case token_kind::op: {
            if (t.text == "(") {
                advance();
                if (skip_op(")")) {
                    return make(expr_kind::tuple, t);
                }
                expr_ptr e = parse_expression();
                if (is_op(",")) {
                    auto tuple = make(expr_kind::tuple, t);
                    tuple->args.push_back(std::move(e));
                    while (skip_op(",")) {
                        if (is_op(")")) {
                            break;
                        }
                        tuple->args.push_back(parse_expression());
                    }
                    e = std::move(tuple);
                }
                expect_op(")");
                return e;
            }
            if (t.text == "[") {
                advance();
                auto e = make(expr_kind::list, t);
                while (!is_op("]")) {
                    e->args.push_back(parse_expression());
                    if (!skip_op(",")) {
                        break;
                    }
                }
                expect_op("]");
                return e;
            }
            if (t.text == "{") {
                advance();
                auto e = make(expr_kind::dict, t);
                while (!is_op("}")) {
                    e->args.push_back(parse_expression());
                    expect_op(":");
                    e->args.push_back(parse_expression());
                    if (!skip_op(",")) {
                        break;
                    }
                }
                expect_op("}");
                return e;
            }
            break;
        }
        default: break;
    }
    fail(t, "unexpected " + describe(t) + " in expression");
}

void parser::parse_call_args(expr & call) {
    expect_op("(");
    while (!is_op(")")) {
        if (is_op("*") || is_op("**")) {
            fail(cur(), "unsupported '*args' / '**kwargs' in call", ErrorCode::unsupported);
        }
        if (cur().kind == token_kind::name && peek().kind == token_kind::op && peek().text == "=") {
            std::string key = cur().text;
            advance();
            advance();
            call.kwargs.emplace_back(std::move(key), parse_expression());
        } else {
            if (!call.kwargs.empty()) {
                fail(cur(), "positional argument follows keyword argument");
            }
            call.args.push_back(parse_expression());
        }
        if (!skip_op(",")) {
            break;
        }
    }
    expect_op(")");
}

expr_ptr parser::parse_postfix(expr_ptr e) {
    while (true) {
        const token t = cur();
        if (is_op(".")) {
            advance();
            if (cur().kind == token_kind::integer) {
                auto item = make(expr_kind::item, t);
                auto key = make(expr_kind::literal, cur());
                key->lit = value(static_cast<int64_t>(std::stoll(cur().text)));
                advance();
                item->args.push_back(std::move(e));
                item->args.push_back(std::move(key));
                e = std::move(item);
                continue;
            }
            auto a = make(expr_kind::attr, t);
            a->name = expect_name();
            a->args.push_back(std::move(e));
            e = std::move(a);
        } else if (is_op("[")) {
            advance();
            expr_ptr start;
            if (!is_op(":")) {
                start = parse_expression();
            }
            if (skip_op(":")) {
                auto s = make(expr_kind::slice, t);
                s->args.push_back(std::move(e));
                s->args.push_back(std::move(start));
                s->args.push_back(is_op(":") || is_op("]") ? nullptr : parse_expression());
                if (skip_op(":")) {
                    s->args.push_back(is_op("]") ? nullptr : parse_expression());
                } else {
                    s->args.push_back(nullptr);
                }
                e = std::move(s);
            } else {
                if (is_op(",")) {
                    fail(cur(), "unsupported tuple subscript", ErrorCode::unsupported);
                }
                auto item = make(expr_kind::item, t);
                item->args.push_back(std::move(e));
                item->args.push_back(std::move(start));
                e = std::move(item);
            }
            expect_op("]");
        } else if (is_op("(")) {
            auto c = make(expr_kind::call, t);
            c->line = e->line; // a call is reported where its callee starts
            c->col = e->col;
            c->args.push_back(std::move(e));
            parse_call_args(*c);
            e = std::move(c);
        } else {
            return e;
        }
    }
}

expr_ptr parser::parse_filter_expr(expr_ptr e) {
    while (true) {
        const token t = cur();
        if (is_op("|")) {
            advance();
            const token name_tok = cur();
            auto f = make(expr_kind::filter, name_tok);
            f->name = expect_name();
            if (!is_known_filter(f->name)) {
                fail(name_tok, "unsupported filter '" + f->name + "'", ErrorCode::unsupported);
            }
            f->args.push_back(std::move(e));
            if (is_op("(")) {
                parse_call_args(*f);
            }
            e = std::move(f);
        } else if (is_name("is")) {
            advance();
            auto test = make(expr_kind::test, cur());
            test->negated = skip_name("not");
            const token name_tok = cur();
            test->name = expect_name();
            if (!is_known_test(test->name)) {
                fail(name_tok, "unsupported test '" + test->name + "'", ErrorCode::unsupported);
            }
            test->args.push_back(std::move(e));
            if (is_op("(")) {
                parse_call_args(*test);
            } else {
                const token & n = cur();
                const bool starts_primary =
                    n.kind == token_kind::string || n.kind == token_kind::integer || n.kind == token_kind::floating ||
                    (n.kind == token_kind::op && (n.text == "[" || n.text == "{")) ||
                    (n.kind == token_kind::name && n.text != "else" && n.text != "or" && n.text != "and" &&
                     n.text != "if" && n.text != "in" && n.text != "is" && n.text != "not");
                if (starts_primary) {
                    test->args.push_back(parse_postfix(parse_primary()));
                }
            }
            e = std::move(test);
        } else if (is_op("(")) {
            auto c = make(expr_kind::call, t);
            c->line = e->line; // a call is reported where its callee starts
            c->col = e->col;
            c->args.push_back(std::move(e));
            parse_call_args(*c);
            e = std::move(c);
        } else {
            return e;
        }
    }
}

} // namespace

std::shared_ptr<const program> parse_template(const std::string & source) {
    return parser(tokenize(source)).run();
}

} // namespace v4::jinja
