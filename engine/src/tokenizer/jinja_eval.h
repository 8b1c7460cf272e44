// Evaluator of the chat-template Jinja subset. It walks a parsed program with a set of variables and returns the
// rendered text. It is a sandbox: templates reach no file, clock (beyond strftime_now) or OS facility, cannot
// mutate their inputs, and are stopped with v4::Error when they exceed the limits below.
#pragma once

#include "tokenizer/jinja_ast.h"

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace v4::jinja {

struct render_limits {
    size_t max_output_bytes = 16u << 20; // 16 MiB
    size_t max_loop_iterations = 1'000'000; // over the whole render
    int max_call_depth = 64;                // macro calls
};

using variables = std::unordered_map<std::string, value>;

class evaluator;

// Renders `prog` with `vars` visible as globals. Errors are v4::Error with "chat template line L, col C: ...":
// invalid_argument for failures of the template at run time (raise_exception, type errors, limits),
// unsupported for methods the subset does not have.
std::string render_program(const program & prog, const variables & vars, const render_limits & limits = {});

// Built-ins, implemented in jinja_builtins.cpp.
value apply_filter(evaluator & ev, const expr & at, const std::string & name, const value & subject, call_args & args);
bool apply_test(evaluator & ev, const expr & at, const std::string & name, const value & subject, call_args & args);
value call_method(evaluator & ev, const expr & at, const value & object, const std::string & name, call_args & args);
void add_global_functions(variables & globals);

// Shared with the built-ins.
[[noreturn]] void fail_at(const expr & at, const std::string & what);
[[noreturn]] void fail_unsupported_at(const expr & at, const std::string & what);
value get_attr(const value & object, const std::string & name);
value get_item(const expr & at, const value & object, const value & key);
value_list iterate(const expr & at, const value & v);
size_t value_length(const value & v);

} // namespace v4::jinja
