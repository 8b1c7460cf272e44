// Splits a reasoning model's streamed output into thinking and answer. Models such as
// DeepSeek-R1 and Qwen3 wrap their reasoning in <think> ... </think>; the tags may arrive split
// across pieces, and the prompt itself may already have opened the block.
#pragma once

#include <string>
#include <string_view>

namespace v4 {

class reasoning_splitter {
public:
    struct parts {
        std::string thinking;
        std::string content;
    };

    explicit reasoning_splitter(bool starts_in_thinking = false);

    parts push(std::string_view piece); // text that is certainly thinking or content so far
    parts finish();                     // flushes text held back as a possible tag prefix

private:
    void route(std::string_view text, parts & out);

    bool        m_in_thinking;
    bool        m_seen_close = false;      // after </think> everything is content
    bool        m_content_started = false; // some answer text has been shown
    std::string m_pending;            // a suffix that may be the start of a tag
};

} // namespace v4
