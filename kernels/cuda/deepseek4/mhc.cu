// mHC kernels (see mhc.h). The collapse is two launches: the mixing GEMV split over (token, row,
// chunk) blocks, which fills the device even for one token, then one block per token that adds the
// partial dot products in chunk order (deterministic), scales them by the RMS of the flat streams, runs
// the Sinkhorn iterations on one thread (n is small) and writes the pre-weighted sum.
#include "cuda/deepseek4/mhc.h"

#include "cuda/deepseek4/d4_device.cuh"

namespace v4::kernels::cuda::d4 {

namespace {

constexpr int collapse_threads = 256;

__device__ float sigmoid_dev(float x) { return 1.0f / (1.0f + expf(-x)); }

// mix [(2+n)n] -> pre, post, comb: the same steps, in the same order, as ref::d4::hc_weights.
__device__ void hc_weights_dev(const ref::d4::hc_params & p, const float * mix, const float * base, const float * scale,
                               float * pre, float * post, float * comb) {
    const int n = p.n;
    for (int j = 0; j < n; j++) {
        pre[j] = sigmoid_dev(mix[j] * scale[0] + base[j]) + p.hc_eps;
        post[j] = 2.0f * sigmoid_dev(mix[n + j] * scale[1] + base[n + j]);
    }
    for (int j = 0; j < n; j++) {
        float * row = comb + j * n;
        float mx = -INFINITY;
        for (int k = 0; k < n; k++) {
            row[k] = mix[2 * n + j * n + k] * scale[2] + base[2 * n + j * n + k];
            mx = fmaxf(mx, row[k]);
        }
        float sum = 0.0f;
        for (int k = 0; k < n; k++) sum += (row[k] = expf(row[k] - mx));
        for (int k = 0; k < n; k++) row[k] = row[k] / sum + p.hc_eps;
    }
    for (int it = 0; it < p.sinkhorn_iters; it++) {  // columns, then (iters - 1) x (rows, columns)
        if (it > 0) {
            for (int j = 0; j < n; j++) {
                float s = 0.0f;
                for (int k = 0; k < n; k++) s += comb[j * n + k];
                for (int k = 0; k < n; k++) comb[j * n + k] /= (s + p.hc_eps);
            }
        }
        for (int k = 0; k < n; k++) {
            float s = 0.0f;
            for (int j = 0; j < n; j++) s += comb[j * n + k];
            for (int j = 0; j < n; j++) comb[j * n + k] /= (s + p.hc_eps);
        }
    }
}

// partial[(t * n_mix + m) * splits + s] = X_t[chunk s] . fn[m][chunk s]; grid (T, n_mix, splits).
__global__ void hc_mix_partial_kernel(int nD, int chunk, const float * X, const float * fn, float * partial) {
    __shared__ float scratch[32];
    const int t = blockIdx.x, m = blockIdx.y, s = blockIdx.z;
    const span sp = split_span(nD, chunk, s);
    const float * xt = X + size_t(t) * nD;
    const float * fr = fn + size_t(m) * nD;
    float acc = 0.0f;
    for (int i = sp.begin + threadIdx.x; i < sp.end; i += blockDim.x) acc += xt[i] * fr[i];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) partial[(size_t(t) * gridDim.y + m) * gridDim.z + s] = acc;
}

// HEAD: the hyper head (n mixes, pre only, written as h); else the full collapse. partial: the
// (T, n_mix, splits) dot products of hc_mix_partial_kernel.
template <bool HEAD>
__global__ void hc_collapse_kernel(ref::d4::hc_params p, const float * X, const float * partial, int splits,
                                   const float * base, const float * scale, float * collapsed, float * post, float * comb) {
    __shared__ float scratch[32];
    __shared__ float mix[(2 + max_hc_streams) * max_hc_streams];
    __shared__ float pre_s[max_hc_streams], post_s[max_hc_streams], comb_s[max_hc_streams * max_hc_streams];
    const int n = p.n, D = p.D, nD = n * D, n_mix = HEAD ? n : (2 + n) * n;
    const int t = blockIdx.x;
    const float * xt = X + size_t(t) * nD;

    float ss = 0.0f;
    for (int i = threadIdx.x; i < nD; i += blockDim.x) ss += xt[i] * xt[i];
    const float rs = 1.0f / sqrtf(block_sum(ss, scratch) / float(nD) + p.rms_eps);
    for (int m = threadIdx.x; m < n_mix; m += blockDim.x) {  // mix[m] = RMSNorm(flat) . fn[m]
        const float * pm = partial + (size_t(t) * n_mix + m) * splits;
        float s = 0.0f;
        for (int k = 0; k < splits; k++) s += pm[k];
        mix[m] = s * rs;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        if (HEAD) {
            for (int j = 0; j < n; j++) pre_s[j] = sigmoid_dev(mix[j] * scale[0] + base[j]) + p.hc_eps;
        } else {
            hc_weights_dev(p, mix, base, scale, pre_s, post_s, comb_s);
        }
    }
    __syncthreads();
    if (!HEAD) {
        for (int i = threadIdx.x; i < n; i += blockDim.x) post[size_t(t) * n + i] = post_s[i];
        for (int i = threadIdx.x; i < n * n; i += blockDim.x) comb[size_t(t) * n * n + i] = comb_s[i];
    }
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < n; j++) acc += pre_s[j] * xt[size_t(j) * D + d];
        collapsed[size_t(t) * D + d] = acc;
    }
}

// One thread per (t, d): it reads the n stream values of its column before writing any, so in place is safe.
__global__ void hc_expand_kernel(ref::d4::hc_params p, int T, float * X, const float * out, const float * post,
                                 const float * comb) {
    const int n = p.n, D = p.D;
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= int64_t(T) * D) return;
    const int t = int(i / D), d = int(i % D);
    float * xt = X + size_t(t) * n * D;
    float x[max_hc_streams];
    for (int j = 0; j < n; j++) x[j] = xt[size_t(j) * D + d];
    const float o = out[size_t(t) * D + d];
    for (int k = 0; k < n; k++) {
        float acc = post[size_t(t) * n + k] * o;
        for (int j = 0; j < n; j++) acc += comb[(size_t(t) * n + j) * n + k] * x[j];
        xt[size_t(k) * D + d] = acc;
    }
}

std::string check(const ref::d4::hc_params & p, int T) {
    if (p.n < 1 || p.n > max_hc_streams) return "mHC: n (hc_mult) " + std::to_string(p.n) + " outside 1..8";
    if (p.D < 1) return "mHC: hidden D must be positive";
    if (T < 0) return "mHC: negative token count";
    if (p.sinkhorn_iters < 1) return "mHC: sinkhorn_iters must be at least 1";
    return {};
}

} // namespace

size_t hc_workspace_floats(const ref::d4::hc_params & p, int T, bool head) {
    const int n_mix = head ? p.n : (2 + p.n) * p.n;
    return size_t(T < 0 ? 0 : T) * size_t(n_mix) * size_t(hc_mix_splits(p.n * p.D));
}

namespace {

template <bool HEAD>
std::string collapse(const char * op, const ref::d4::hc_params & p, const float * X, int T, const float * fn,
                     const float * base, const float * scale, float * collapsed, float * post, float * comb,
                     float * workspace, cudaStream_t stream) {
    if (std::string e = check(p, T); !e.empty()) return e;
    if (T == 0) return {};
    if (workspace == nullptr) return std::string(op) + ": no workspace (hc_workspace_floats)";
    const int nD = p.n * p.D, n_mix = HEAD ? p.n : (2 + p.n) * p.n;
    const dim3 grid(unsigned(T), unsigned(n_mix), unsigned(hc_mix_splits(nD)));
    hc_mix_partial_kernel<<<grid, collapse_threads, 0, stream>>>(nD, hc_mix_chunk(nD), X, fn, workspace);
    hc_collapse_kernel<HEAD><<<T, collapse_threads, 0, stream>>>(p, X, workspace, hc_mix_splits(nD), base, scale,
                                                                 collapsed, post, comb);
    return launch_status(op);
}

} // namespace

std::string hc_collapse(const ref::d4::hc_params & p, const float * X, int T, const float * fn, const float * base,
                        const float * scale, float * collapsed, float * post, float * comb, float * workspace,
                        cudaStream_t stream) {
    return collapse<false>("hc_collapse", p, X, T, fn, base, scale, collapsed, post, comb, workspace, stream);
}

std::string hc_head(const ref::d4::hc_params & p, const float * X, int T, const float * fn, const float * base,
                    const float * scale, float * h, float * workspace, cudaStream_t stream) {
    return collapse<true>("hc_head", p, X, T, fn, base, scale, h, nullptr, nullptr, workspace, stream);
}

std::string hc_expand(const ref::d4::hc_params & p, float * X, int T, const float * out, const float * post,
                      const float * comb, cudaStream_t stream) {
    if (std::string e = check(p, T); !e.empty()) return e;
    const int64_t total = int64_t(T) * p.D;
    if (total == 0) return {};
    constexpr int threads = 256;
    hc_expand_kernel<<<unsigned((total + threads - 1) / threads), threads, 0, stream>>>(p, T, X, out, post, comb);
    return launch_status("hc_expand");
}

} // namespace v4::kernels::cuda::d4
