// The host backend of d4_forward_steps.h: std::vector buffers and the scalar references of
// kernels/reference/deepseek4_ops. With it the step sequence runs on the CPU, where a test compares
// it with the engine's d4_eval (tests/gpu/test_deepseek4_reference.cpp); the device forward runs the
// same steps with the CUDA ops of d4_cuda_forward.cpp.
//
//   d4_host_state s = d4_host_new_state(m);
//   std::vector<float> logits = d4_host_eval(m, s, tokens);   // as d4_eval
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cuda/deepseek4/d4_forward_steps.h"

namespace v4::deepseek4 {

struct d4_host_ops {
    template <typename T>
    using buf = std::vector<T>;
    template <typename T>
    static void resize(buf<T> & b, size_t n) { b.resize(n); }
    template <typename T>
    static void grow(buf<T> & b, size_t n) { b.resize(std::max(b.size(), n)); }
    template <typename T>
    static T * ptr(buf<T> & b) { return b.data(); }
    template <typename T>
    static const T * w(const std::vector<T> & v) { return v.data(); }
    static void copy(float * dst, const float * src, size_t n) {
        if (n) std::memmove(dst, src, n * sizeof(float));
    }

    static void linear(const float * w, int out, int in, const float * x, int T, float * y) {
        kernels::ref::d4::linear(x, T, in, w, out, y);
    }
    static void rms_norm_rows(float * x, int64_t rows, int d, const float * w, float eps) {
        kernels::ref::d4::rms_norm_rows(x, rows, d, w, eps);
    }
    static void rope_rows(float * x, int T, int heads, int dim, const kernels::ref::d4::rope_table & rope, int pos0,
                          float sign) {
        for (int t = 0; t < T; t++) {
            for (int h = 0; h < heads; h++) kernels::ref::d4::rope_apply(x + (size_t(t) * heads + h) * dim, dim, rope, pos0 + t, sign);
        }
    }
    static void embed(const float * embd, const int32_t * tokens, int T, int n, int D, float * X) {
        for (int t = 0; t < T; t++) {
            for (int j = 0; j < n; j++) std::copy_n(embd + size_t(tokens[t]) * D, D, X + (size_t(t) * n + j) * D);
        }
    }
    static void top_k(const float * scores, int ld, int n_q, int pos0, int ratio, int k, int32_t * ids, int32_t * count) {
        for (int t = 0; t < n_q; t++) {
            const int n = std::min(ld, (pos0 + t + 1) / ratio);
            std::fill_n(ids + size_t(t) * k, k, -1);
            count[t] = kernels::ref::d4::top_k_ascending(scores + size_t(t) * ld, n, k, ids + size_t(t) * k);
        }
    }
    static constexpr auto hc_collapse = kernels::ref::d4::hc_collapse;
    static constexpr auto hc_expand = kernels::ref::d4::hc_expand;
    static constexpr auto hc_head = kernels::ref::d4::hc_head;
    static constexpr auto compress_windows = kernels::ref::d4::compress_windows;
    static constexpr auto index_scores = kernels::ref::d4::index_scores;
    static constexpr auto sparse_attention = kernels::ref::d4::sparse_attention;
    static constexpr auto grouped_linear = kernels::ref::d4::grouped_linear;
    static constexpr auto route = kernels::ref::d4::route;
    static constexpr auto expert_gate_up = kernels::ref::d4::expert_gate_up;
    static constexpr auto expert_down = kernels::ref::d4::expert_down;
};

struct d4_host_state {
    int n_past = 0;
    std::vector<steps::layer_state<d4_host_ops>> layers;
};

inline d4_host_state d4_host_new_state(const d4_model & m) {
    d4_host_state s;
    s.layers.resize(m.layers.size());
    return s;
}

// d4_eval through the step sequence and the scalar references (tokens already valid for the model).
inline std::vector<float> d4_host_eval(const d4_model & m, d4_host_state & s, const std::vector<int32_t> & tokens,
                                       bool all_logits = true) {
    const d4_config & c = m.cfg;
    const steps::context cx{c,
                            {c.rope_main.inv_freq.data(), int(c.rope_main.inv_freq.size()), c.rope_main.attn_factor},
                            {c.rope_compress.inv_freq.data(), int(c.rope_compress.inv_freq.size()), c.rope_compress.attn_factor}};
    std::vector<float> logits;
    steps::eval<d4_host_ops>(m, cx, tokens.data(), int(tokens.size()), s.n_past, s.layers.data(), all_logits, logits);
    s.n_past += int(tokens.size());
    return logits;
}

} // namespace v4::deepseek4
