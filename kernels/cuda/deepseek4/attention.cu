// Attention kernels (see attention.h).
#include "cuda/deepseek4/attention.h"

#include "cuda/deepseek4/d4_device.cuh"

namespace v4::kernels::cuda::d4 {

namespace {

constexpr int attn_warps = 4;
constexpr int lane_dims = max_attn_head_dim / 32;  // channels per lane: d = lane + 32 i

// The key row i of query t: window rows (positions lo .. pos) first, then the compressed entries.
__device__ const float * attn_row(const ref::d4::attn_kv & kv, int hd, int t, int lo, int n_win, int i) {
    if (i < n_win) return kv.win + size_t((lo + i - kv.win_base) % kv.win_cap) * hd;
    const int c = i - n_win;
    const int id = kv.hca_ratio > 0 ? c : kv.sel[size_t(t) * kv.sel_ld + c];
    return kv.comp + size_t(id) * hd;
}

// exp(m - M) for merging a partial softmax with running max m into one with max M; an empty partial
// (m = -inf) weighs nothing, also when every partial is empty.
__device__ inline float merge_weight(float m, float M) { return m == -INFINITY ? 0.0f : expf(m - M); }

// The attention output o[hd] (shared) of query t, head h: divide, undo the rope, store.
__device__ void finish_head(const ref::d4::attn_params & p, float * o, int t, int h, int pos, float * out) {
    __syncthreads();
    rope_block(o, p.hd, p.rope, pos, -1.0f);  // V carried rope (K = V): undo at the query position
    __syncthreads();
    for (int d = threadIdx.x; d < p.hd; d += blockDim.x) out[(size_t(t) * p.H + h) * p.hd + d] = o[d];
}

// Grid (T, H, splits), attn_warps warps per block. Block (t, h, s) takes span s of the query's rows
// (all of them when unsplit); each warp runs an online softmax over a contiguous part of that span,
// holding its share of the output channels in registers; the warps' (max, sum, accumulator) are merged
// in shared memory. Unsplit (SPLIT false) the block adds the sink and writes the output; split, it
// writes its merged partial [max, sum, acc[hd]] to part for attention_combine_kernel.
template <bool SPLIT>
__global__ void sparse_attention_kernel(ref::d4::attn_params p, ref::d4::attn_kv kv, const float * q, int pos0,
                                        float * out, float * part) {
    __shared__ float w_max[attn_warps], w_sum[attn_warps];
    __shared__ float w_acc[attn_warps][max_attn_head_dim];
    __shared__ float o[max_attn_head_dim];
    const int t = blockIdx.x, h = blockIdx.y, hd = p.hd, H = p.H;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int pos = pos0 + t;
    const int lo = pos - p.window + 1 > 0 ? pos - p.window + 1 : 0;
    const int n_win = pos - lo + 1;
    const int n_comp = kv.hca_ratio > 0 ? (pos + 1) / kv.hca_ratio : (kv.sel ? kv.n_sel[t] : 0);
    const int n = n_win + n_comp;

    const float * qh = q + (size_t(t) * H + h) * hd;
    float qr[lane_dims], acc[lane_dims];
    for (int i = 0; i < lane_dims; i++) {
        const int d = lane + 32 * i;
        qr[i] = d < hd ? qh[d] : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    const span mine = split_span(n, split_chunk(n, int(gridDim.z)), int(blockIdx.z));
    const int len = mine.end > mine.begin ? mine.end - mine.begin : 0;
    const span part_w = split_span(len, split_chunk(len, attn_warps), warp);
    for (int i = mine.begin + part_w.begin; i < mine.begin + part_w.end; i++) {
        const float * row = attn_row(kv, hd, t, lo, n_win, i);
        float s = 0.0f;
        for (int j = 0; j < lane_dims; j++) {
            const int d = lane + 32 * j;
            if (d < hd) s += qr[j] * row[d];
        }
        s = warp_sum(s) * p.scale;
        const float m_new = fmaxf(m, s);
        const float corr = expf(m - m_new), e = expf(s - m_new);
        l = l * corr + e;
        for (int j = 0; j < lane_dims; j++) {
            const int d = lane + 32 * j;
            if (d < hd) acc[j] = acc[j] * corr + e * row[d];
        }
        m = m_new;
    }
    if (lane == 0) {
        w_max[warp] = m;
        w_sum[warp] = l;
    }
    for (int j = 0; j < lane_dims; j++) {
        const int d = lane + 32 * j;
        if (d < hd) w_acc[warp][d] = acc[j];
    }
    __syncthreads();
    const float sink = p.sinks[h];
    float M = SPLIT ? -INFINITY : sink;  // the sink joins once, in the combine of a split
    for (int w = 0; w < attn_warps; w++) M = fmaxf(M, w_max[w]);
    float L = SPLIT ? 0.0f : expf(sink - M);  // the sink takes probability mass, adds no value
    for (int w = 0; w < attn_warps; w++) L += w_sum[w] * merge_weight(w_max[w], M);
    if constexpr (SPLIT) {
        float * rec = part + ((size_t(t) * H + h) * gridDim.z + blockIdx.z) * (hd + 2);
        for (int d = threadIdx.x; d < hd; d += blockDim.x) {
            float v = 0.0f;
            for (int w = 0; w < attn_warps; w++) v += w_acc[w][d] * merge_weight(w_max[w], M);
            rec[2 + d] = v;
        }
        if (threadIdx.x == 0) {
            rec[0] = M;
            rec[1] = L;
        }
    } else {
        for (int d = threadIdx.x; d < hd; d += blockDim.x) {
            float v = 0.0f;
            for (int w = 0; w < attn_warps; w++) v += w_acc[w][d] * merge_weight(w_max[w], M);
            o[d] = v / L;
        }
        finish_head(p, o, t, h, pos, out);
    }
}

// Grid (T, H): merges the splits' partials of query t, head h in split order with the sink.
__global__ void attention_combine_kernel(ref::d4::attn_params p, int pos0, int splits, const float * part, float * out) {
    __shared__ float o[max_attn_head_dim];
    const int t = blockIdx.x, h = blockIdx.y, hd = p.hd;
    const float * rec = part + (size_t(t) * p.H + h) * splits * (hd + 2);
    const float sink = p.sinks[h];
    float M = sink;
    for (int s = 0; s < splits; s++) M = fmaxf(M, rec[size_t(s) * (hd + 2)]);
    float L = expf(sink - M);
    for (int s = 0; s < splits; s++) L += rec[size_t(s) * (hd + 2) + 1] * merge_weight(rec[size_t(s) * (hd + 2)], M);
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float v = 0.0f;
        for (int s = 0; s < splits; s++) v += rec[size_t(s) * (hd + 2) + 2 + d] * merge_weight(rec[size_t(s) * (hd + 2)], M);
        o[d] = v / L;
    }
    finish_head(p, o, t, h, pos0 + t, out);
}

// One warp per output (t, g * R + r).
__global__ void grouped_linear_kernel(const float * x, int T, int G, int in_g, const float * w, int R, float * y) {
    const int lane = threadIdx.x & 31;
    const int64_t o = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
    if (o >= int64_t(T) * G * R) return;
    const int t = int(o / (int64_t(G) * R)), gr = int(o % (int64_t(G) * R)), g = gr / R;
    const float * xg = x + size_t(t) * G * in_g + size_t(g) * in_g;
    const float * wr = w + size_t(gr) * in_g;
    float s = 0.0f;
    for (int i = lane; i < in_g; i += 32) s += xg[i] * wr[i];
    s = warp_sum(s);
    if (lane == 0) y[o] = s;
}

} // namespace

namespace {

// attn_splits for these queries: the last one has the most rows (window, then HCA windows or the
// CSA selection's capacity).
int splits_for(const ref::d4::attn_params & p, const ref::d4::attn_kv & kv, int T, int pos0) {
    const int64_t end = int64_t(pos0) + T;  // positions < end
    const int64_t n_win = end < p.window ? end : p.window;
    const int64_t n_comp = kv.hca_ratio > 0 ? end / kv.hca_ratio : (kv.sel ? kv.sel_ld : 0);
    const int64_t rows = n_win + n_comp;
    return attn_splits(T, p.H, rows > 0x7FFFFFFF ? 0x7FFFFFFF : int(rows));
}

} // namespace

size_t sparse_attention_workspace_floats(const ref::d4::attn_params & p, const ref::d4::attn_kv & kv, int T, int pos0) {
    if (T <= 0 || p.H < 1 || p.hd < 1) return 0;
    const int S = splits_for(p, kv, T, pos0);
    return S == 1 ? 0 : size_t(T) * size_t(p.H) * size_t(S) * size_t(p.hd + 2);
}

std::string sparse_attention(const ref::d4::attn_params & p, const ref::d4::attn_kv & kv, const float * q, int T,
                             int pos0, float * out, float * workspace, cudaStream_t stream) {
    if (p.H < 1 || p.hd < 1 || p.hd > max_attn_head_dim) return "sparse_attention: heads or head_dim (at most 512) out of range";
    if (2 * p.rope.pairs > p.hd) return "sparse_attention: rope slice wider than the head";
    if (p.window < 1) return "sparse_attention: window must be positive";
    if (!kv.win || kv.win_cap < 1) return "sparse_attention: no window rows";
    if (pos0 < kv.win_base) return "sparse_attention: the first query precedes the window buffer";
    if (kv.hca_ratio > 0 && !kv.comp) return "sparse_attention: HCA needs the compressed entries";
    if (kv.hca_ratio <= 0 && kv.sel && (!kv.comp || !kv.n_sel || kv.sel_ld < 1)) {
        return "sparse_attention: CSA needs entries, n_sel and sel_ld";
    }
    if (T < 0 || pos0 < 0) return "sparse_attention: negative token count or position";
    if (T == 0) return {};
    if (p.H > 65535) return "sparse_attention: too many heads";
    const int S = splits_for(p, kv, T, pos0);
    if (S == 1) {
        sparse_attention_kernel<false><<<dim3(unsigned(T), unsigned(p.H)), attn_warps * 32, 0, stream>>>(p, kv, q, pos0, out, nullptr);
        return launch_status("sparse_attention");
    }
    if (workspace == nullptr) return "sparse_attention: no workspace for the split (sparse_attention_workspace_floats)";
    sparse_attention_kernel<true><<<dim3(unsigned(T), unsigned(p.H), unsigned(S)), attn_warps * 32, 0, stream>>>(
        p, kv, q, pos0, out, workspace);
    attention_combine_kernel<<<dim3(unsigned(T), unsigned(p.H)), attn_warps * 32, 0, stream>>>(p, pos0, S, workspace, out);
    return launch_status("sparse_attention");
}

std::string grouped_linear(const float * x, int T, int G, int in_g, const float * w, int R, float * y,
                           cudaStream_t stream) {
    if (T < 0 || G < 1 || in_g < 1 || R < 1) return "grouped_linear: bad shape";
    const int64_t warps = int64_t(T) * G * R;
    if (warps == 0) return {};
    constexpr int threads = 256;
    grouped_linear_kernel<<<unsigned((warps * 32 + threads - 1) / threads), threads, 0, stream>>>(x, T, G, in_g, w, R, y);
    return launch_status("grouped_linear");
}

} // namespace v4::kernels::cuda::d4
