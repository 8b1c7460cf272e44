// Sampler: bias, penalties, top-k / top-p / min-p truncation, temperature and the draw.
// Written for large vocabularies (262k for Gemma 3): nothing sorts the whole vocabulary when
// top_k is set, and top_p without top_k sorts in growing chunks only as far as it has to.
#include "v4/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "v4/error.h"

namespace v4 {

namespace {

// A strict total order on candidates (higher logit first, then lower id), so that the survivors
// of every truncation are uniquely defined whatever algorithm selects them.
bool better(const token_prob & a, const token_prob & b) {
    if (a.logit != b.logit) {
        return a.logit > b.logit;
    }
    return a.id < b.id;
}

bool allowed(float logit) {
    return logit > -std::numeric_limits<float>::infinity(); // false for -inf and NaN
}

double unit_interval(uint64_t bits) {
    return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0); // [0, 1), 53 bits
}

} // namespace

sampler_params sampler_default_params() {
    return sampler_params{};
}

sampler_params sampler_greedy_params() {
    sampler_params p;
    p.temperature = 0.0f;
    p.top_k       = 1;
    p.top_p       = 1.0f;
    p.min_p       = 0.0f;
    return p;
}

void apply_logit_bias(std::span<float> logits, const sampler_params & params) {
    for (const auto & [id, bias] : params.logit_bias) {
        if (id >= 0 && static_cast<size_t>(id) < logits.size()) {
            logits[id] += bias;
        }
    }
}

void apply_penalties(std::span<float> logits, std::span<const int32_t> window, const sampler_params & params) {
    const bool rep  = params.repetition_penalty != 1.0f && params.repetition_penalty > 0.0f;
    const bool rest = params.presence_penalty != 0.0f || params.frequency_penalty != 0.0f;
    if (window.empty() || (!rep && !rest)) {
        return;
    }
    std::vector<int32_t> sorted(window.begin(), window.end());
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size();) {
        size_t j = i;
        while (j < sorted.size() && sorted[j] == sorted[i]) {
            ++j;
        }
        const int32_t id    = sorted[i];
        const float   count = static_cast<float>(j - i);
        i = j;
        if (id < 0 || static_cast<size_t>(id) >= logits.size()) {
            continue;
        }
        float & l = logits[id];
        if (rep) {
            l = l > 0.0f ? l / params.repetition_penalty : l * params.repetition_penalty;
        }
        l -= count * params.frequency_penalty + params.presence_penalty;
    }
}

sampler::sampler(sampler_params params) : m_params(std::move(params)), m_rng(m_params.seed) {}

void sampler::reset() {
    m_history.clear();
    m_rng.seed(m_params.seed);
}

void sampler::set_seed(uint64_t seed) {
    m_params.seed = seed;
    m_rng.seed(seed);
}

void sampler::accept(int32_t token) {
    if (m_params.penalty_last_n == 0) {
        return;
    }
    m_history.push_back(token);
    if (m_params.penalty_last_n > 0 && m_history.size() > static_cast<size_t>(m_params.penalty_last_n) * 2) {
        // Trim in batches so accept() stays O(1) amortised.
        m_history.erase(m_history.begin(), m_history.end() - m_params.penalty_last_n);
    }
}

double sampler::uniform01() {
    return unit_interval(m_rng());
}

double sampler::peek_uniform() const {
    std::mt19937_64 rng = m_rng; // ~2.5 KB of state: copying it once per token is invisible
    return unit_interval(rng());
}

void sampler::consume_uniform() {
    uniform01();
}

std::span<float> sampler::prepare(std::span<const float> logits) {
    if (logits.empty()) {
        throw Error(ErrorCode::invalid_argument, "sampler: empty logits");
    }
    m_work.assign(logits.begin(), logits.end());
    std::span<float> work(m_work);
    apply_logit_bias(work, m_params);
    std::span<const int32_t> window(m_history);
    if (m_params.penalty_last_n > 0 && window.size() > static_cast<size_t>(m_params.penalty_last_n)) {
        window = window.last(m_params.penalty_last_n);
    }
    apply_penalties(work, window, m_params);
    return work;
}

void sampler::filter(std::span<const float> work) {
    const size_t  n = work.size();
    const int32_t k = m_params.top_k;
    m_cand.clear();
    bool   sorted    = false;
    float  max_logit = -std::numeric_limits<float>::infinity();
    double z         = 0.0; // untempered softmax normaliser over the top-k survivors (all tokens without top-k)

    if (k > 0 && static_cast<size_t>(k) < n) {
        // top-k in one pass: a heap of the k best so far, its worst on top. Most tokens lose a
        // single comparison against the heap's worst, so this costs little more than reading.
        m_cand.reserve(k);
        for (size_t i = 0; i < n; ++i) {
            const float l = work[i];
            if (!allowed(l)) {
                continue;
            }
            const token_prob t {static_cast<int32_t>(i), l, 0.0f};
            if (m_cand.size() < static_cast<size_t>(k)) {
                m_cand.push_back(t);
                if (m_cand.size() == static_cast<size_t>(k)) {
                    std::make_heap(m_cand.begin(), m_cand.end(), better);
                }
            } else if (l >= m_cand.front().logit && better(t, m_cand.front())) {
                std::pop_heap(m_cand.begin(), m_cand.end(), better);
                m_cand.back() = t;
                std::push_heap(m_cand.begin(), m_cand.end(), better);
            }
        }
        if (m_cand.empty()) {
            throw Error(ErrorCode::invalid_argument, "sampler: every token is banned (all logits are -inf or NaN)");
        }
        std::sort(m_cand.begin(), m_cand.end(), better);
        sorted    = true;
        max_logit = m_cand.front().logit;
        for (const auto & c : m_cand) {
            z += std::exp(static_cast<double>(c.logit) - max_logit);
        }
    } else {
        size_t n_allowed = 0;
        for (size_t i = 0; i < n; ++i) {
            if (allowed(work[i])) {
                max_logit = std::max(max_logit, work[i]);
                ++n_allowed;
            }
        }
        if (n_allowed == 0) {
            throw Error(ErrorCode::invalid_argument, "sampler: every token is banned (all logits are -inf or NaN)");
        }
        if (m_params.top_p < 1.0f) { // only top-p needs the normaliser here
            for (size_t i = 0; i < n; ++i) {
                if (allowed(work[i])) {
                    z += std::exp(work[i] - max_logit); // float exp: each term is in (0, 1]
                }
            }
        }
        // Skip tokens that cannot survive, before anything is sorted:
        //  - min-p keeps p >= min_p * p_max, i.e. logit >= max_logit + log(min_p);
        //  - top-p never reaches a token with p < (1 - top_p) / n: all such tokens together hold
        //    less than 1 - top_p, so the others alone already reach top_p.
        double threshold = -std::numeric_limits<double>::infinity();
        if (m_params.min_p > 0.0f) {
            threshold = max_logit + std::log(static_cast<double>(m_params.min_p));
        }
        if (m_params.top_p < 1.0f) {
            const double floor_p = (1.0 - m_params.top_p) / static_cast<double>(n_allowed);
            threshold            = std::max(threshold, max_logit + std::log(z) + std::log(floor_p));
        }
        m_cand.reserve(std::isinf(threshold) ? n_allowed : 1024);
        for (size_t i = 0; i < n; ++i) {
            if (allowed(work[i]) && work[i] >= threshold) {
                m_cand.push_back({static_cast<int32_t>(i), work[i], 0.0f});
            }
        }
        if (m_cand.empty()) { // rounding: keep at least the best token
            const auto best = std::max_element(work.begin(), work.end(), [](float a, float b) {
                return allowed(a) ? allowed(b) && a < b : allowed(b);
            });
            m_cand.push_back({static_cast<int32_t>(best - work.begin()), *best, 0.0f});
        }
    }

    // top-p: the smallest head (by probability) whose mass reaches top_p. Sorted candidates
    // (after top-k) are scanned; unsorted ones are narrowed by quickselect on the mass, O(n)
    // expected, so a wide nucleus over a large vocabulary never needs a full sort.
    if (m_params.top_p < 1.0f && m_cand.size() > 1) {
        auto weight = [&](const token_prob & c) { return std::exp(static_cast<double>(c.logit) - max_logit); };
        double need = static_cast<double>(m_params.top_p) * z; // unnormalised mass still to cover
        size_t lo   = 0;
        size_t hi   = m_cand.size();
        if (!sorted) {
            while (hi - lo > 64) {
                const size_t mid = lo + (hi - lo) / 2;
                std::nth_element(m_cand.begin() + lo, m_cand.begin() + mid, m_cand.begin() + hi, better);
                double mass = 0.0; // of [lo, mid): the better half
                for (size_t i = lo; i < mid; ++i) {
                    mass += weight(m_cand[i]);
                }
                if (mass >= need) {
                    hi = mid; // the nucleus ends inside the better half
                } else {
                    need -= mass;
                    lo = mid;
                }
            }
            std::sort(m_cand.begin() + lo, m_cand.begin() + hi, better);
        }
        size_t cut = hi;
        for (size_t i = lo; i < hi; ++i) {
            need -= weight(m_cand[i]);
            if (need <= 0.0) {
                cut = i + 1;
                break;
            }
        }
        m_cand.resize(cut); // the best `cut` candidates (sorted only when they were before)
    }

    // min-p: keep p >= min_p * p_max, i.e. logit >= max_logit + log(min_p).
    if (m_params.min_p > 0.0f && m_cand.size() > 1) {
        const float threshold = max_logit + std::log(m_params.min_p);
        auto        last      = std::remove_if(m_cand.begin(), m_cand.end(),
                                               [&](const token_prob & c) { return c.logit < threshold; });
        m_cand.erase(last, m_cand.end()); // remove_if keeps the order, so sortedness is preserved
    }

    // Temperature, then normalise.
    const double inv_t = 1.0 / static_cast<double>(m_params.temperature);
    double       sum   = 0.0;
    for (auto & c : m_cand) {
        const double w = std::exp((static_cast<double>(c.logit) - max_logit) * inv_t);
        c.p = static_cast<float>(w);
        sum += w;
    }
    for (auto & c : m_cand) {
        c.p = static_cast<float>(c.p / sum);
    }
}

int32_t sampler::sample(std::span<const float> logits) {
    std::span<const float> work = prepare(logits);

    if (m_params.temperature <= 0.0f) {
        int32_t best = -1;
        for (size_t i = 0; i < work.size(); ++i) {
            if (allowed(work[i]) && (best < 0 || work[i] > work[best])) {
                best = static_cast<int32_t>(i);
            }
        }
        if (best < 0) {
            throw Error(ErrorCode::invalid_argument, "sampler: every token is banned (all logits are -inf or NaN)");
        }
        return best;
    }

    filter(work);
    if (m_cand.size() == 1) {
        return m_cand.front().id;
    }
    // Draw by inverse CDF over the candidates in their (deterministic) order.
    double sum = 0.0;
    for (const auto & c : m_cand) {
        sum += c.p;
    }
    const double u   = uniform01() * sum;
    double       cum = 0.0;
    for (const auto & c : m_cand) {
        cum += c.p;
        if (u < cum) {
            return c.id;
        }
    }
    return m_cand.back().id; // rounding: u landed on the very top of the range
}

std::vector<token_prob> sampler::candidates(std::span<const float> logits) {
    std::span<const float> work = prepare(logits);
    if (m_params.temperature <= 0.0f) {
        sampler_params saved = m_params;
        m_params.top_k       = 1;
        m_params.temperature = 1.0f;
        filter(work);
        m_params = std::move(saved);
    } else {
        filter(work);
    }
    std::vector<token_prob> out = m_cand;
    std::sort(out.begin(), out.end(), better);
    return out;
}

} // namespace v4
