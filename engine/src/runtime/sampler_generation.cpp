// generation: token counting, end-of-generation tokens and stop strings matched on decoded text.
//
// Stop strings can straddle tokens ("</ans" + "wer>"), so the tail of the output that is a prefix
// of some stop string is withheld. Any match must start inside that withheld tail (otherwise its
// beginning would have been a longer stop prefix), so searching `withheld + new text` is enough.
#include "v4/sampler.h"

#include <algorithm>
#include <utility>

namespace v4 {

const char * stop_reason_name(stop_reason reason) {
    switch (reason) {
        case stop_reason::none:        return "none";
        case stop_reason::eog_token:   return "eog";
        case stop_reason::stop_string: return "stop";
        case stop_reason::max_tokens:  return "length";
    }
    return "unknown";
}

generation::generation(generation_params params) : m_params(std::move(params)) {
    // Empty stop strings would match everywhere.
    auto & stop = m_params.stop;
    stop.erase(std::remove_if(stop.begin(), stop.end(), [](const std::string & s) { return s.empty(); }), stop.end());
    if (m_params.max_tokens == 0) {
        m_reason = stop_reason::max_tokens;
    }
}

std::string generation::push(int32_t token, std::string_view text) {
    if (done()) {
        return {};
    }
    ++m_n_tokens;

    if (std::find(m_params.eog_tokens.begin(), m_params.eog_tokens.end(), token) != m_params.eog_tokens.end()) {
        m_reason = stop_reason::eog_token;
        return std::exchange(m_pending, {}); // the withheld prefix was real output after all
    }

    m_pending.append(text);

    // Earliest complete stop string (ties: the longer one, so the whole marker is withheld).
    size_t best_pos = std::string::npos;
    size_t best_len = 0;
    for (const auto & s : m_params.stop) {
        const size_t pos = m_pending.find(s);
        if (pos != std::string::npos && (pos < best_pos || (pos == best_pos && s.size() > best_len))) {
            best_pos = pos;
            best_len = s.size();
            m_matched_stop = s;
        }
    }
    if (best_pos != std::string::npos) {
        m_reason = stop_reason::stop_string;
        std::string out = m_pending.substr(0, best_pos);
        m_pending.clear();
        return out;
    }

    // Longest suffix of the pending text that is a proper prefix of some stop string.
    size_t keep = 0;
    for (const auto & s : m_params.stop) {
        const size_t max_len = std::min(s.size() - 1, m_pending.size());
        for (size_t len = max_len; len > keep; --len) {
            if (std::string_view(m_pending).substr(m_pending.size() - len) == std::string_view(s).substr(0, len)) {
                keep = len;
                break;
            }
        }
    }
    std::string out = m_pending.substr(0, m_pending.size() - keep);
    m_pending.erase(0, m_pending.size() - keep);

    if (m_params.max_tokens > 0 && m_n_tokens >= m_params.max_tokens) {
        m_reason = stop_reason::max_tokens;
        out += std::exchange(m_pending, {});
    }
    return out;
}

std::string generation::finish() {
    return std::exchange(m_pending, {});
}

} // namespace v4
