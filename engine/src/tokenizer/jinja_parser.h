// Parser of the chat-template Jinja subset: tokens from jinja_lexer to a jinja_ast program. Everything outside
// the subset (include, import, extends, call blocks, unknown filters and tests, ...) is rejected here, before any
// rendering, with v4::Error(unsupported) naming the construct and where it is.
#pragma once

#include "tokenizer/jinja_ast.h"

#include <memory>
#include <string>

namespace v4::jinja {

std::shared_ptr<const program> parse_template(const std::string & source);

// Known to the evaluator; the parser checks names against these.
bool is_known_filter(const std::string & name);
bool is_known_test(const std::string & name);

} // namespace v4::jinja
