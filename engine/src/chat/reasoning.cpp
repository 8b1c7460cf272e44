#include "v4/reasoning.h"

namespace v4 {

namespace {
constexpr std::string_view k_open  = "<think>";
constexpr std::string_view k_close = "</think>";

// Length of the longest suffix of `text` that is a proper prefix of `tag`.
size_t partial_tag_suffix(std::string_view text, std::string_view tag) {
    for (size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n) {
        if (text.substr(text.size() - n) == tag.substr(0, n)) {
            return n;
        }
    }
    return 0;
}
} // namespace

reasoning_splitter::reasoning_splitter(bool starts_in_thinking) : m_in_thinking(starts_in_thinking) {}

void reasoning_splitter::route(std::string_view text, parts & out) {
    if (m_in_thinking) {
        out.thinking.append(text);
        return;
    }
    // The answer usually follows "</think>" after a blank line; don't show that as leading space.
    if (m_seen_close && out.content.empty() && !m_content_started) {
        while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) {
            text.remove_prefix(1);
        }
    }
    m_content_started = m_content_started || !text.empty();
    out.content.append(text);
}

reasoning_splitter::parts reasoning_splitter::push(std::string_view piece) {
    parts out;
    m_pending.append(piece);
    std::string_view rest = m_pending;
    while (!rest.empty()) {
        if (m_seen_close) {
            route(rest, out);
            rest = {};
            break;
        }
        const std::string_view tag = m_in_thinking ? k_close : k_open;
        const size_t           at  = rest.find(tag);
        if (at != std::string_view::npos) {
            route(rest.substr(0, at), out);
            rest.remove_prefix(at + tag.size());
            m_seen_close  = m_seen_close || m_in_thinking;
            m_in_thinking = !m_in_thinking;
            continue;
        }
        const size_t keep = partial_tag_suffix(rest, tag);
        route(rest.substr(0, rest.size() - keep), out);
        rest = rest.substr(rest.size() - keep);
        break;
    }
    m_pending = std::string(rest);
    return out;
}

reasoning_splitter::parts reasoning_splitter::finish() {
    parts out;
    route(m_pending, out);
    m_pending.clear();
    return out;
}

} // namespace v4
