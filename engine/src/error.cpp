#include "v4/error.h"

namespace v4 {

const char * error_code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::io:               return "io";
        case ErrorCode::format:           return "format";
        case ErrorCode::unsupported:      return "unsupported";
        case ErrorCode::invalid_argument: return "invalid_argument";
        case ErrorCode::context_overflow: return "context_overflow";
        case ErrorCode::cancelled:        return "cancelled";
        case ErrorCode::out_of_memory:    return "out_of_memory";
        case ErrorCode::internal:         return "internal";
    }
    return "unknown";
}

} // namespace v4
