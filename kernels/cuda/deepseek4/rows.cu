// Row kernels (see rows.h).
#include "cuda/deepseek4/rows.h"

#include "cuda/deepseek4/d4_device.cuh"

namespace v4::kernels::cuda::d4 {

namespace {

__global__ void rms_norm_rows_kernel(float * x, int d, const float * w, float eps) {
    __shared__ float scratch[32];
    float * v = x + size_t(blockIdx.x) * d;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) ss += v[i] * v[i];
    const float scale = 1.0f / sqrtf(block_sum(ss, scratch) / float(d) + eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) v[i] = w ? w[i] * (v[i] * scale) : v[i] * scale;
}

// One thread per (token, head, pair).
__global__ void rope_rows_kernel(float * x, int T, int heads, int dim, ref::d4::rope_table rope, int pos0, float sign) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= int64_t(T) * heads * rope.pairs) return;
    const int pair = int(i % rope.pairs);
    const int64_t th = i / rope.pairs;  // t * heads + h
    const int t = int(th / heads);
    float * r = x + th * dim + (dim - 2 * rope.pairs);
    const float angle = float(pos0 + t) * rope.inv_freq[pair];
    const float c = cosf(angle) * rope.attn_factor, s = sign * sinf(angle) * rope.attn_factor;
    const float a = r[2 * pair], b = r[2 * pair + 1];
    r[2 * pair] = a * c - b * s;
    r[2 * pair + 1] = b * c + a * s;
}

__global__ void embed_streams_kernel(const float * embd, const int32_t * tokens, int n, int D, float * X) {
    const int t = blockIdx.x;
    const float * e = embd + size_t(tokens[t]) * D;
    for (int i = threadIdx.x; i < n * D; i += blockDim.x) X[size_t(t) * n * D + i] = e[i % D];
}

} // namespace

std::string rms_norm_rows(float * x, int64_t rows, int d, const float * w, float eps, cudaStream_t stream) {
    if (rows < 0 || d < 1) return "rms_norm_rows: bad shape";
    if (rows == 0) return {};
    if (rows > int64_t(0x7FFFFFFF)) return "rms_norm_rows: too many rows for one launch";
    rms_norm_rows_kernel<<<unsigned(rows), 256, 0, stream>>>(x, d, w, eps);
    return launch_status("rms_norm_rows");
}

std::string rope_rows(float * x, int T, int heads, int dim, const ref::d4::rope_table & rope, int pos0, float sign,
                      cudaStream_t stream) {
    if (T < 0 || heads < 1 || dim < 1 || rope.pairs < 0 || 2 * rope.pairs > dim) return "rope_rows: bad shape";
    const int64_t total = int64_t(T) * heads * rope.pairs;
    if (total == 0) return {};
    constexpr int threads = 256;
    rope_rows_kernel<<<unsigned((total + threads - 1) / threads), threads, 0, stream>>>(x, T, heads, dim, rope, pos0, sign);
    return launch_status("rope_rows");
}

std::string embed_streams(const float * embd, const int32_t * tokens, int T, int n, int D, float * X, cudaStream_t stream) {
    if (T < 0 || n < 1 || D < 1) return "embed_streams: bad shape";
    if (T == 0) return {};
    embed_streams_kernel<<<T, 256, 0, stream>>>(embd, tokens, n, D, X);
    return launch_status("embed_streams");
}

} // namespace v4::kernels::cuda::d4
