// v4::Error: every failure the engine reports (bad file, unsupported feature, I/O, cancellation)
// is one of these, with a code a program can branch on and a message a person can read.
// The engine throws it; hosts catch it at their boundary and turn it into a value or a message.
#pragma once

#include <stdexcept>
#include <string>

namespace v4 {

enum class ErrorCode {
    io,               // the operating system refused: open, mmap, read, write
    format,           // a file is malformed: bad magic, offsets past EOF, inconsistent sizes
    unsupported,      // well-formed but not handled: unknown tensor type, architecture, template syntax
    invalid_argument, // the caller asked for something impossible
    context_overflow, // the prompt does not fit the session's context window
    cancelled,        // the caller's cancel flag was raised
    out_of_memory,
    internal,         // a bug in V4 Chat
};

const char * error_code_name(ErrorCode code);

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string & message) : std::runtime_error(message), m_code(code) {}
    ErrorCode code() const noexcept { return m_code; }

private:
    ErrorCode m_code;
};

} // namespace v4
