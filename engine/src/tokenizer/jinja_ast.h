// Syntax tree of the chat-template Jinja subset, built by jinja_parser and walked by jinja_eval.
#pragma once

#include "tokenizer/jinja_value.h"

#include <memory>
#include <string>
#include <vector>

namespace v4::jinja {

struct expr;
using expr_ptr = std::unique_ptr<expr>;

enum class expr_kind {
    literal,  // lit
    name,     // name
    list,     // args: items
    tuple,    // args: items (evaluates to a list)
    dict,     // kwargs: key expressions are args[2i], values args[2i+1]
    attr,     // args[0].name
    item,     // args[0][args[1]]
    slice,    // args[0][args[1]:args[2]:args[3]], any of 1..3 may be null
    call,     // args[0](args[1..], kwargs)
    filter,   // args[0] | name(args[1..], kwargs)
    test,     // args[0] is [not] name(args[1..])
    unary,    // name in {"-", "+", "not"} applied to args[0]
    binary,   // args[0] name args[1]; name is an arithmetic operator, "~", "and", "or"
    compare,  // args[0] ops[0] args[1] ops[1] args[2] ... (Python chained comparison)
    ternary,  // args[0] if args[1] else args[2] (args[2] may be null: undefined)
};

struct expr {
    expr_kind kind;
    int line = 0;
    int col = 0;
    value lit;
    std::string name;
    bool negated = false;
    std::vector<expr_ptr> args;
    std::vector<std::pair<std::string, expr_ptr>> kwargs;
    std::vector<std::string> ops;
};

struct node;
using node_ptr = std::unique_ptr<node>;
using node_list = std::vector<node_ptr>;

enum class node_kind {
    text,      // text
    output,    // {{ value }}
    if_,       // branches (cond, body); else_body
    for_,      // for targets in value [if filter] body [else else_body]
    set,       // set targets = value, or set targets[0].attr = value
    set_block, // set targets[0] %} body {% endset
    macro,     // macro name(params) body
    sequence,  // body (the {% generation %} block of transformers)
    break_,
    continue_,
};

struct macro_param {
    std::string name;
    expr_ptr default_value; // may be null
};

struct node {
    node_kind kind;
    int line = 0;
    int col = 0;
    std::string text;
    expr_ptr value;
    expr_ptr filter;
    std::vector<std::string> targets;
    std::string attr;
    std::vector<std::pair<expr_ptr, node_list>> branches;
    node_list body;
    node_list else_body;
    std::vector<macro_param> params;
};

struct program {
    node_list body;
    std::vector<std::string> names; // every variable name the template reads, for feature probes
};

} // namespace v4::jinja
