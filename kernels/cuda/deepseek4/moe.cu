// MoE kernels (see moe.h).
#include "cuda/deepseek4/moe.h"

#include "cuda/deepseek4/d4_device.cuh"

namespace v4::kernels::cuda::d4 {

namespace {

__device__ float softplus_dev(float x) { return x > 20.0f ? x : log1pf(expf(x)); }  // torch threshold 20

// One warp per token. Learned routing picks K times the largest remaining biased score (ties to the
// lower id), which is the order of the reference's stable descending sort.
__global__ void route_kernel(const float * logits, int E, int K, const float * bias, const int64_t * tid2eid,
                             const int32_t * tokens, float routed_scale, int32_t * ids, float * weights) {
    __shared__ float score[max_router_experts];
    __shared__ bool taken[max_router_experts];
    const int t = blockIdx.x, lane = threadIdx.x;
    for (int e = lane; e < E; e += 32) {
        score[e] = sqrtf(softplus_dev(logits[size_t(t) * E + e]));
        taken[e] = false;
    }
    __syncwarp();
    int32_t * chosen = ids + size_t(t) * K;
    for (int k = 0; k < K; k++) {
        if (!bias) {
            if (lane == 0) chosen[k] = int32_t(tid2eid[size_t(tokens[t]) * K + k]);
            continue;
        }
        float best = -INFINITY;
        int best_e = E;  // E: none yet
        for (int e = lane; e < E; e += 32) {
            const float v = score[e] + bias[e];
            if (!taken[e] && (best_e == E || v > best)) {  // ascending e per lane: ties keep the lower id
                best = v;
                best_e = e;
            }
        }
        for (int o = 16; o > 0; o >>= 1) {
            const float ob = __shfl_xor_sync(full_mask, best, o);
            const int oe = __shfl_xor_sync(full_mask, best_e, o);
            if (oe != E && (best_e == E || ob > best || (ob == best && oe < best_e))) {
                best = ob;
                best_e = oe;
            }
        }
        if (lane == 0) {
            chosen[k] = best_e;
            taken[best_e] = true;
        }
        __syncwarp();
    }
    __syncwarp();
    if (lane == 0) {
        float wsum = 0.0f;
        for (int k = 0; k < K; k++) wsum += score[chosen[k]];
        for (int k = 0; k < K; k++) weights[size_t(t) * K + k] = score[chosen[k]] / (wsum + 1e-20f) * routed_scale;
    }
}

constexpr int gemv_warps = 8;

// Grid (T * K, ceil(F / gemv_warps)): one warp per (token, slot, f), both dots of the pair of rows.
template <wfmt W>
__global__ void gate_up_kernel(weight_view gate, weight_view up, const float * x, const int32_t * ids, int K, int F,
                               float limit, float * h) {
    const int lane = threadIdx.x & 31, f = blockIdx.y * gemv_warps + (threadIdx.x >> 5);
    if (f >= F) return;
    const int tk = blockIdx.x, t = tk / K;
    const int e = ids ? ids[tk] : 0;
    const float * xt = x + size_t(t) * gate.cols;
    const float g = warp_sum(row_dot_lane<W>(gate, e, f, xt, lane));
    const float u = warp_sum(row_dot_lane<W>(up, e, f, xt, lane));
    if (lane == 0) {
        const float gc = fminf(g, limit);
        h[size_t(tk) * F + f] = gc / (1.0f + expf(-gc)) * fminf(fmaxf(u, -limit), limit);
    }
}

// Grid (T, ceil(D / gemv_warps)): one warp per (token, output row), the K experts summed in order.
template <wfmt W>
__global__ void down_kernel(weight_view down, const float * h, const int32_t * ids, const float * weights, int K, int D,
                            int F, bool accumulate, float * out) {
    const int lane = threadIdx.x & 31, d = blockIdx.y * gemv_warps + (threadIdx.x >> 5);
    if (d >= D) return;
    const int t = blockIdx.x;
    float acc = accumulate ? out[size_t(t) * D + d] : 0.0f;
    for (int k = 0; k < K; k++) {
        const int e = ids ? ids[size_t(t) * K + k] : 0;
        const float s = warp_sum(row_dot_lane<W>(down, e, d, h + (size_t(t) * K + k) * F, lane));
        acc += (weights ? weights[size_t(t) * K + k] : 1.0f) * s;
    }
    if (lane == 0) out[size_t(t) * D + d] = acc;
}

template <template <wfmt> class Launch, typename... Args>
void dispatch(wfmt f, Args &&... args) {
    switch (f) {
        case wfmt::f32: Launch<wfmt::f32>::run(args...); break;
        case wfmt::bf16: Launch<wfmt::bf16>::run(args...); break;
        case wfmt::fp8_e4m3_b128: Launch<wfmt::fp8_e4m3_b128>::run(args...); break;
        case wfmt::fp4_e2m1_b32: Launch<wfmt::fp4_e2m1_b32>::run(args...); break;
    }
}

template <wfmt W>
struct gate_up_launch {
    static void run(dim3 grid, cudaStream_t s, const weight_view & g, const weight_view & u, const float * x,
                    const int32_t * ids, int K, int F, float limit, float * h) {
        gate_up_kernel<W><<<grid, gemv_warps * 32, 0, s>>>(g, u, x, ids, K, F, limit, h);
    }
};

template <wfmt W>
struct down_launch {
    static void run(dim3 grid, cudaStream_t s, const weight_view & w, const float * h, const int32_t * ids,
                    const float * weights, int K, int D, int F, bool accumulate, float * out) {
        down_kernel<W><<<grid, gemv_warps * 32, 0, s>>>(w, h, ids, weights, K, D, F, accumulate, out);
    }
};

} // namespace

std::string check_weight_view(const char * name, const weight_view & w, int64_t rows, int64_t cols) {
    const std::string n(name);
    if (!w.data) return n + ": no weight data";
    if (w.cols != cols) return n + ": " + std::to_string(w.cols) + " columns, expected " + std::to_string(cols);
    if (w.row0 < 0 || w.row0 + rows > w.rows_per_expert) {
        return n + ": rows " + std::to_string(w.row0) + " .. " + std::to_string(w.row0 + rows) + " outside the expert's " +
               std::to_string(w.rows_per_expert);
    }
    if ((w.fmt == wfmt::fp8_e4m3_b128 || w.fmt == wfmt::fp4_e2m1_b32) && !w.scales) return n + ": block format without scales";
    if (w.fmt == wfmt::fp4_e2m1_b32 && w.cols % 32 != 0) return n + ": MXFP4 needs a multiple of 32 columns";
    return {};
}

std::string route(const float * logits, int T, int E, int K, const float * bias, const int64_t * tid2eid,
                  const int32_t * tokens, float routed_scale, int32_t * ids, float * weights, cudaStream_t stream) {
    if (E < 1 || E > max_router_experts) return "route: expert count " + std::to_string(E) + " outside 1..1024";
    if (K < 1 || K > E) return "route: top-k " + std::to_string(K) + " outside 1..experts";
    if (!bias && (!tid2eid || !tokens)) return "route: hash routing needs tid2eid and the token ids";
    if (T < 0) return "route: negative token count";
    if (T == 0) return {};
    route_kernel<<<T, 32, 0, stream>>>(logits, E, K, bias, tid2eid, tokens, routed_scale, ids, weights);
    return launch_status("route");
}

std::string expert_gate_up(const weight_view & gate, const weight_view & up, const float * x, int T, const int32_t * ids,
                           int K, int F, float limit, float * h, cudaStream_t stream) {
    if (std::string e = check_weight_view("expert_gate_up gate", gate, F, gate.cols); !e.empty()) return e;
    if (std::string e = check_weight_view("expert_gate_up up", up, F, gate.cols); !e.empty()) return e;
    if (gate.fmt != up.fmt) return "expert_gate_up: gate and up in different formats";
    if (T < 0 || K < 1 || F < 1 || (!ids && K != 1)) return "expert_gate_up: bad shape (T, K, F; without ids K = 1)";
    if (T == 0) return {};
    if (ceil_div(F, gemv_warps) > 65535) return "expert_gate_up: F too large for one launch";
    const dim3 grid{unsigned(T * K), unsigned(ceil_div(F, gemv_warps))};
    dispatch<gate_up_launch>(gate.fmt, grid, stream, gate, up, x, ids, K, F, limit, h);
    return launch_status("expert_gate_up");
}

std::string expert_down(const weight_view & down, const float * h, int T, const int32_t * ids, const float * weights,
                        int K, int D, int F, bool accumulate, float * out, cudaStream_t stream) {
    if (std::string e = check_weight_view("expert_down", down, D, F); !e.empty()) return e;
    if (T < 0 || K < 1 || D < 1 || (!ids && K != 1)) return "expert_down: bad shape (T, K, D; without ids K = 1)";
    if (T == 0) return {};
    if (ceil_div(D, gemv_warps) > 65535) return "expert_down: D too large for one launch";
    const dim3 grid{unsigned(T), unsigned(ceil_div(D, gemv_warps))};
    dispatch<down_launch>(down.fmt, grid, stream, down, h, ids, weights, K, D, F, accumulate, out);
    return launch_status("expert_down");
}

std::string linear(const weight_view & w, const float * x, int T, int rows, float * y, cudaStream_t stream) {
    return expert_down(w, x, T, nullptr, nullptr, 1, rows, int(w.cols), false, y, stream);
}

} // namespace v4::kernels::cuda::d4
