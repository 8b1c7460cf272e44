// Index arithmetic the DeepSeek-V4 CUDA launchers and kernels share, kept free of CUDA so the CPU
// unit test (tests/gpu/test_deepseek4_reference.cpp) checks it on machines without a GPU.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define V4_D4_LM __host__ __device__
#else
#define V4_D4_LM
#endif

namespace v4::kernels::cuda::d4 {

V4_D4_LM inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Splitting n items into at most `parts` contiguous spans of `chunk` items (the last may be shorter):
// flash-decoding splits of a query's key list, for instance. n = 0 gives no spans.
struct span {
    int begin = 0, end = 0;
};
V4_D4_LM inline int split_chunk(int n, int parts) {
    const int c = ceil_div(n, parts < 1 ? 1 : parts);
    return c < 1 ? 1 : c;
}
V4_D4_LM inline int split_count(int n, int chunk) { return ceil_div(n, chunk); }
V4_D4_LM inline span split_span(int n, int chunk, int s) {
    const int b = s * chunk, e = b + chunk;
    return {b, e < n ? e : n};
}

// The mHC mixing GEMV ((2 + n) n rows of n * D) split over blocks: each block dots a chunk of about
// 2048 flat-stream elements with one row, so that a decode step (one token) still fills the device
// (V4-Flash: 24 rows x 8 chunks); at most 64 chunks (gridDim.z).
V4_D4_LM inline int hc_mix_chunk(int nD) { return split_chunk(nD, ceil_div(nD, 2048) < 64 ? ceil_div(nD, 2048) : 64); }
V4_D4_LM inline int hc_mix_splits(int nD) { return split_count(nD, hc_mix_chunk(nD)); }

// Flash-decoding splits of sparse_attention: when the (token, head) blocks are too few to fill the
// device (a decode step) and a query's key list is long (HCA: one entry per 128 positions), each
// query's rows are cut into up to 32 spans of about 512 rows, one block each, merged by a second
// kernel. max_rows bounds any query's rows (window + compressed entries); 1 means no split.
V4_D4_LM inline int attn_splits(int T, int H, int max_rows) {
    if (int64_t(T) * H >= 512 || max_rows <= 1024) return 1;
    const int s = ceil_div(max_rows, 512);
    return s > 32 ? 32 : s;
}

// An unsigned key with the order of the floats (radix select of the indexer's top-k). -0 and +0 get
// the same key, as they compare equal; NaN is out of contract (the engine's top-k is undefined there too).
V4_D4_LM inline uint32_t float_order_key(float f) {
    if (f == 0.0f) f = 0.0f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Compressed entries a query at position pos0 + t may see: the windows closed by its own position.
V4_D4_LM inline int visible_entries(int t, int pos0, int ratio) { return (pos0 + t + 1) / ratio; }

} // namespace v4::kernels::cuda::d4
