// Lexer of the chat-template Jinja subset. It splits a template into text and tag tokens, applying whitespace
// control the way Hugging Face's environment does: trim_blocks=True (drop the newline after a block or comment
// tag), lstrip_blocks=True (drop spaces and tabs before a block or comment tag that starts its line), `-` on
// either side of a tag strips all whitespace on that side, `+` turns lstrip/trim off for that tag, and one
// trailing newline of the template is dropped (keep_trailing_newline=False).
#pragma once

#include <string>
#include <vector>

namespace v4::jinja {

enum class token_kind {
    text,        // literal output
    var_begin,   // {{
    var_end,     // }}
    block_begin, // {%
    block_end,   // %}
    name,
    string,      // text holds the unescaped value
    integer,
    floating,
    op,          // text holds the operator: + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
    eof,
};

struct token {
    token_kind kind;
    std::string text;
    int line = 1;
    int col = 1;
};

// Throws v4::Error (format) with "chat template line L, col C: ..." on malformed input.
std::vector<token> tokenize(const std::string & source);

// "chat template line L, col C: " + what
std::string location_prefix(int line, int col);

} // namespace v4::jinja
