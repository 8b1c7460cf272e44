// Compressor kernel (see compressor.h): one block per closing window, threads over the entry's channels.
#include "cuda/deepseek4/compressor.h"

#include "cuda/deepseek4/d4_device.cuh"

namespace v4::kernels::cuda::d4 {

namespace {

constexpr int max_entry_dim = 1024;

__global__ void compress_kernel(ref::d4::compress_params p, const float * kv, const float * gate, const float * prev_kv,
                                const float * prev_gate, int first_entry, float * entries) {
    __shared__ float entry[max_entry_dim];
    __shared__ float scratch[32];
    const int k = blockIdx.x, ratio = p.ratio, dim = p.dim, width = p.width();
    const float * cur_kv = kv + size_t(k) * ratio * width;
    const float * cur_gate = gate + size_t(k) * ratio * width;
    const bool has_prev = p.overlap && first_entry + k > 0;
    const float * pkv = k == 0 ? prev_kv : cur_kv - size_t(ratio) * width;
    const float * pgate = k == 0 ? prev_gate : cur_gate - size_t(ratio) * width;
    const int cur_col = p.overlap ? dim : 0;

    float ss = 0.0f;
    for (int ch = threadIdx.x; ch < dim; ch += blockDim.x) {
        // Slots in the reference's order: the previous window's Ca rows, then this window's Cb rows.
        float mx = -INFINITY;
        if (has_prev) {
            for (int r = 0; r < ratio; r++) mx = fmaxf(mx, pgate[size_t(r) * width + ch] + p.pos_bias[size_t(r) * width + ch]);
        }
        for (int r = 0; r < ratio; r++) {
            const int c = cur_col + ch;
            mx = fmaxf(mx, cur_gate[size_t(r) * width + c] + p.pos_bias[size_t(r) * width + c]);
        }
        float sum = 0.0f, acc = 0.0f;
        if (has_prev) {
            for (int r = 0; r < ratio; r++) {
                const float e = expf(pgate[size_t(r) * width + ch] + p.pos_bias[size_t(r) * width + ch] - mx);
                sum += e;
                acc += e * pkv[size_t(r) * width + ch];
            }
        }
        for (int r = 0; r < ratio; r++) {
            const int c = cur_col + ch;
            const float e = expf(cur_gate[size_t(r) * width + c] + p.pos_bias[size_t(r) * width + c] - mx);
            sum += e;
            acc += e * cur_kv[size_t(r) * width + c];
        }
        const float v = acc / sum;
        entry[ch] = v;
        ss += v * v;
    }
    const float rs = 1.0f / sqrtf(block_sum(ss, scratch) / float(dim) + p.rms_eps);  // syncs: entry[] complete
    for (int ch = threadIdx.x; ch < dim; ch += blockDim.x) entry[ch] = p.kv_norm[ch] * (entry[ch] * rs);
    __syncthreads();
    rope_block(entry, dim, p.rope, (first_entry + k) * ratio, 1.0f);
    __syncthreads();
    for (int ch = threadIdx.x; ch < dim; ch += blockDim.x) entries[size_t(k) * dim + ch] = entry[ch];
}

} // namespace

std::string compress_windows(const ref::d4::compress_params & p, const float * kv, const float * gate,
                             const float * prev_kv, const float * prev_gate, int n_windows, int first_entry,
                             float * entries, cudaStream_t stream) {
    if (p.ratio < 1) return "compress_windows: ratio must be positive";
    if (p.dim < 1 || p.dim > max_entry_dim) return "compress_windows: dim " + std::to_string(p.dim) + " outside 1..1024";
    if (2 * p.rope.pairs > p.dim) return "compress_windows: rope slice wider than the entry";
    if (n_windows < 0 || first_entry < 0) return "compress_windows: negative window count or entry id";
    if (p.overlap && first_entry > 0 && (!prev_kv || !prev_gate)) {
        return "compress_windows: CSA window after the first needs the previous window (prev_kv / prev_gate)";
    }
    if (n_windows == 0) return {};
    compress_kernel<<<n_windows, 128, 0, stream>>>(p, kv, gate, prev_kv, prev_gate, first_entry, entries);
    return launch_status("compress_windows");
}

} // namespace v4::kernels::cuda::d4
