// Choosing one type per tensor under a byte budget. Each tensor offers a curve of (bytes, KL)
// points; only its lower convex hull matters to a Lagrangian solution. Starting from every
// tensor's cheapest point, the greedy repeatedly takes the hull step with the largest KL saved
// per byte that still fits the budget: the optimum of the convex relaxation, up to the last step.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <queue>

#include "quantize/candidates.h"
#include "v4/error.h"
#include "v4/quantize.h"

namespace v4 {

namespace {

// Indices of the lower convex hull of (bytes, kl), cheapest first; kl strictly decreasing.
std::vector<size_t> lower_hull(const tensor_sensitivity & t) {
    std::vector<size_t> order(t.types.size());
    for (size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return t.bytes[a] < t.bytes[b]; });
    std::vector<size_t> hull;
    for (size_t i : order) {
        if (!hull.empty() && t.kl[i] >= t.kl[hull.back()]) {
            continue; // costs more, saves nothing
        }
        while (hull.size() >= 2) {
            const size_t a = hull[hull.size() - 2], b = hull.back();
            const double s_ab = (t.kl[a] - t.kl[b]) / static_cast<double>(t.bytes[b] - t.bytes[a]);
            const double s_bi = (t.kl[b] - t.kl[i]) / static_cast<double>(t.bytes[i] - t.bytes[b]);
            if (s_bi >= s_ab) {
                hull.pop_back(); // b lies above the segment a..i
            } else {
                break;
            }
        }
        hull.push_back(i);
    }
    return hull;
}

quantize_plan finish(const quantize_measurement & m, const std::vector<size_t> & choice) {
    quantize_plan p;
    p.tensor_bytes = m.fixed_bytes;
    double elements = 0.0, planned_bytes = 0.0;
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        const tensor_sensitivity & t = m.tensors[i];
        p.type_of[t.name] = t.types[choice[i]];
        p.tensor_bytes += t.bytes[choice[i]];
        p.estimated_kl += t.kl[choice[i]];
        elements += static_cast<double>(t.n_elements);
        planned_bytes += static_cast<double>(t.bytes[choice[i]]);
    }
    p.bits_per_weight = elements > 0 ? 8.0 * planned_bytes / elements : 0.0;
    return p;
}

size_t index_of(const tensor_sensitivity & t, const std::string & type) {
    const auto it = std::find(t.types.begin(), t.types.end(), type);
    if (it == t.types.end()) {
        throw Error(ErrorCode::invalid_argument, "tensor '" + t.name + "' has no measured candidate " + type);
    }
    return static_cast<size_t>(it - t.types.begin());
}

dtype parse_type(const std::string & name) {
    for (dtype d : all_dtypes()) {
        if (name == traits(d).name) {
            return d;
        }
    }
    throw Error(ErrorCode::invalid_argument, "unknown type '" + name + "'");
}

} // namespace

quantize_plan plan_for_budget(const quantize_measurement & m, uint64_t budget_bytes) {
    std::vector<std::vector<size_t>> hulls;
    std::vector<size_t>              pos(m.tensors.size(), 0), choice(m.tensors.size());
    uint64_t                         used = m.fixed_bytes;
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        hulls.push_back(lower_hull(m.tensors[i]));
        choice[i] = hulls[i].front();
        used += m.tensors[i].bytes[choice[i]];
    }
    if (used > budget_bytes) {
        throw Error(ErrorCode::invalid_argument, "the budget of " + std::to_string(budget_bytes) +
                                                     " bytes is below the smallest plan (" + std::to_string(used) + " bytes)");
    }
    // Max-heap of the next hull step of each tensor, by KL saved per byte.
    using step = std::pair<double, size_t>;
    std::priority_queue<step> steps;
    auto push_next = [&](size_t i) {
        if (pos[i] + 1 < hulls[i].size()) {
            const tensor_sensitivity & t = m.tensors[i];
            const size_t a = hulls[i][pos[i]], b = hulls[i][pos[i] + 1];
            steps.emplace((t.kl[a] - t.kl[b]) / static_cast<double>(t.bytes[b] - t.bytes[a]), i);
        }
    };
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        push_next(i);
    }
    while (!steps.empty()) {
        const size_t i = steps.top().second;
        steps.pop();
        const tensor_sensitivity & t = m.tensors[i];
        const size_t a = hulls[i][pos[i]], b = hulls[i][pos[i] + 1];
        if (used - t.bytes[a] + t.bytes[b] > budget_bytes) {
            continue; // does not fit; cheaper steps of other tensors may still
        }
        used = used - t.bytes[a] + t.bytes[b];
        ++pos[i];
        choice[i] = b;
        push_next(i);
    }
    return finish(m, choice);
}

uint64_t budget_for_bpw(const quantize_measurement & m, double bpw) {
    double elements = 0.0;
    for (const tensor_sensitivity & t : m.tensors) {
        elements += static_cast<double>(t.n_elements);
    }
    return m.fixed_bytes + static_cast<uint64_t>(std::floor(bpw * elements / 8.0));
}

quantize_plan plan_uniform(const quantize_measurement & m, const std::string & type) {
    const dtype         wanted = parse_type(type);
    std::vector<size_t> choice;
    for (const tensor_sensitivity & t : m.tensors) {
        choice.push_back(index_of(t, traits(quant::with_fallback(wanted, t.n_in)).name));
    }
    return finish(m, choice);
}

quantize_plan plan_q4_k_m_rule(const quantize_measurement & m, int n_layers) {
    // llama.cpp's use_more_bits(): the first and last eighth of the layers, and every third between.
    auto more_bits = [&](int il) {
        return il < n_layers / 8 || il >= 7 * n_layers / 8 || (il - n_layers / 8) % 3 == 2;
    };
    const bool has_output = std::any_of(m.tensors.begin(), m.tensors.end(),
                                        [](const tensor_sensitivity & t) { return t.name == "output.weight"; });
    std::vector<size_t> choice;
    for (const tensor_sensitivity & t : m.tensors) {
        dtype wanted = dtype::q4_k;
        int   il     = -1;
        if (t.name.rfind("blk.", 0) == 0) {
            il = std::atoi(t.name.c_str() + 4);
        }
        if (t.name == "output.weight" || (!has_output && t.name == "token_embd.weight")) {
            wanted = dtype::q6_k;
        } else if (il >= 0 && (t.name.find(".attn_v.") != std::string::npos || t.name.find(".ffn_down.") != std::string::npos) &&
                   more_bits(il)) {
            wanted = dtype::q6_k;
        }
        choice.push_back(index_of(t, traits(quant::with_fallback(wanted, t.n_in)).name));
    }
    return finish(m, choice);
}

} // namespace v4
