// A small strict JSON reader for config.json and the safetensors header: objects, arrays,
// strings (with \uXXXX escapes), numbers, true/false/null. Errors are v4::Error(format) with the
// byte offset. Not a general-purpose library: no streaming, no comments, no trailing commas.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace v4::deepseek4 {

struct json_value {
    enum class kind { null, boolean, number, string, array, object };

    kind type = kind::null;
    bool b = false;
    double num = 0.0;
    std::string str;
    std::vector<json_value> arr;
    std::map<std::string, json_value> obj;

    bool is_null() const { return type == kind::null; }
    // Member lookup on an object; nullptr when absent or when this is not an object.
    const json_value * find(const std::string & key) const;
};

// Parses the whole text; `what` names the document in error messages ("config.json").
json_value json_parse(std::string_view text, const std::string & what);

} // namespace v4::deepseek4
