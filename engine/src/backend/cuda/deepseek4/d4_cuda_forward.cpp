// DeepSeek-V4 device forward (see d4_cuda_forward.h): the step sequence of d4_forward_steps.h (the one
// the CPU test runs with the scalar references against d4_eval) with device buffers and the CUDA
// kernels. Everything runs on the legacy default stream, so kernels and device-to-device copies are
// ordered without events, and scratch memory is recycled through block_pool without synchronising:
// the one wait of a forward is the copy of its logits to the host.
#include "backend/cuda/deepseek4/d4_cuda_forward.h"

#include "models/deepseek4/deepseek4_synthetic.h"
#include "v4/error.h"

#if defined(V4_WITH_CUDA)

#include <cuda_runtime.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "backend/cuda/deepseek4/d4_forward_steps.h"
#include "cuda/device.h"
#include "cuda/deepseek4/attention.h"
#include "cuda/deepseek4/compressor.h"
#include "cuda/deepseek4/indexer.h"
#include "cuda/deepseek4/mhc.h"
#include "cuda/deepseek4/moe.h"
#include "cuda/deepseek4/rows.h"

namespace v4::deepseek4 {

namespace kd = v4::kernels::cuda::d4;
namespace rd = v4::kernels::ref::d4;

namespace {

void check(cudaError_t err, const char * what) {
    if (err != cudaSuccess) {
        cudaGetLastError();
        throw Error(err == cudaErrorMemoryAllocation ? ErrorCode::out_of_memory : ErrorCode::internal,
                    std::string("deepseek4 CUDA: ") + what + ": " + cudaGetErrorString(err));
    }
}

void check(const std::string & err) {
    if (!err.empty()) throw Error(ErrorCode::internal, "deepseek4 CUDA: " + err);
}

// Device memory of the forward's buffers, recycled instead of freed: a step's scratch buffers go back
// here and the next step takes them again, without cudaMalloc / cudaFree (cudaFree waits for the
// device). Every kernel and copy runs on the legacy default stream in issue order, so a block handed
// out again is only written after the work that used it before. Blocks are binned by size (powers of
// two from 256 bytes); when the driver has no memory left the cached blocks are released and the
// allocation retried. Weights bypass the pool (they live as long as the model).
class block_pool {
public:
    // A block of at least `bytes`; `bytes` becomes its size.
    void * take(size_t & bytes) {
        bytes = std::bit_ceil(std::max<size_t>(bytes, 256));
        {
            std::lock_guard lock(m_mutex);
            if (auto & bin = m_free[bytes]; !bin.empty()) {
                void * p = bin.back();
                bin.pop_back();
                return p;
            }
        }
        return fresh(bytes);
    }
    void give(void * p, size_t bytes) {
        std::lock_guard lock(m_mutex);
        m_free[bytes].push_back(p);
    }
    static void * fresh(size_t bytes) {
        void * p = nullptr;
        if (cudaMalloc(&p, bytes) == cudaSuccess) return p;
        cudaGetLastError();
        instance().release();
        check(cudaMalloc(&p, bytes), "allocating device memory");
        return p;
    }
    // Never destroyed: buffers of objects destroyed at exit may still come back.
    static block_pool & instance() {
        static auto * pool = new block_pool;
        return *pool;
    }

private:
    void release() {
        std::lock_guard lock(m_mutex);
        cudaDeviceSynchronize();  // blocks may still be in use by queued work
        for (auto & [size, bin] : m_free) {
            for (void * p : bin) cudaFree(p);
            bin.clear();
        }
    }
    std::mutex                                       m_mutex;
    std::unordered_map<size_t, std::vector<void *>> m_free;
};

// Device array of T. resize() discards the contents; grow() keeps them. Never null once sized (at
// least one element), so kernels that take "the entries so far" get a valid pointer before any exist.
// Scratch and state arrays come from block_pool; `pooled = false` (weights) allocates exactly.
template <typename T>
struct dvec {
    T * p = nullptr;
    size_t n = 0, cap = 0;
    bool pooled = true;
    dvec() = default;
    dvec(const dvec &) = delete;
    dvec & operator=(const dvec &) = delete;
    dvec(dvec && o) noexcept : p(o.p), n(o.n), cap(o.cap), pooled(o.pooled) { o.p = nullptr; o.n = o.cap = 0; }
    ~dvec() { release(p, cap); }
    void reserve(size_t count, bool keep) {
        if (count <= cap && p) return;
        size_t bytes = std::max<size_t>({count, cap + cap / 2, 1}) * sizeof(T);
        T * q = static_cast<T *>(pooled ? block_pool::instance().take(bytes) : block_pool::fresh(bytes));
        if (keep && n) check(cudaMemcpyAsync(q, p, n * sizeof(T), cudaMemcpyDeviceToDevice, nullptr), "growing a device buffer");
        release(p, cap);
        p = q;
        cap = bytes / sizeof(T);
    }
    void release(T * q, size_t count) {
        if (q == nullptr) return;
        if (pooled) block_pool::instance().give(q, count * sizeof(T));
        else cudaFree(q);
    }
    void resize(size_t count) {
        reserve(count, false);
        n = count;
    }
    void grow(size_t count) {
        reserve(count, true);
        n = std::max(n, count);
    }
    void upload(const T * src, size_t count) {
        resize(count);
        if (count) check(cudaMemcpy(p, src, count * sizeof(T), cudaMemcpyHostToDevice), "uploading");
    }
    void upload(const std::vector<T> & v) { upload(v.data(), v.size()); }
};

} // namespace

struct d4_dev_compressor {
    int dim = 0;
    bool overlap = false;
    dvec<float> kv_proj, gate_proj, pos_bias, kv_norm;
};

struct d4_dev_layer {
    dvec<float> attn_hc_fn, attn_hc_base, attn_hc_scale, ffn_hc_fn, ffn_hc_base, ffn_hc_scale, attn_norm, ffn_norm;
    dvec<float> q_a, q_a_norm, q_b, kv, kv_norm, o_a, o_b, sinks;
    d4_dev_compressor comp, index_comp;
    dvec<float> index_q_b, index_weights;
    dvec<float> router, router_bias;
    dvec<int64_t> tid2eid;
    dvec<float> exp_gate_up, exp_down, sh_gate, sh_up, sh_down;
};

struct d4_cuda_model {
    d4_config cfg;
    uint64_t bytes = 0;
    dvec<float> tok_embd, head_fn, head_base, head_scale, out_norm, lm_head, rope_main, rope_compress;
    std::vector<d4_dev_layer> layers;
};

// The CUDA backend of d4_forward_steps.h: device buffers, the kernels of kernels/cuda/deepseek4.
struct d4_cuda_ops {
    template <typename T>
    using buf = dvec<T>;
    template <typename T>
    static void resize(buf<T> & b, size_t n) { b.resize(n); }
    template <typename T>
    static void grow(buf<T> & b, size_t n) { b.grow(n); }
    template <typename T>
    static T * ptr(buf<T> & b) { return b.p; }
    template <typename T>
    static const T * w(const dvec<T> & v) { return v.p; }
    static void copy(float * dst, const float * src, size_t n) {
        if (n) check(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, nullptr), "device copy");
    }

    static void linear(const float * w, int out, int in, const float * x, int T, float * y) {
        check(kd::linear(rd::weight_view{rd::wfmt::f32, w, nullptr, in, out, 0}, x, T, out, y, nullptr));
    }
    template <typename... A>
    static void rms_norm_rows(A... a) { check(kd::rms_norm_rows(a..., nullptr)); }
    template <typename... A>
    static void rope_rows(A... a) { check(kd::rope_rows(a..., nullptr)); }
    template <typename... A>
    static void embed(A... a) { check(kd::embed_streams(a..., nullptr)); }
    template <typename... A>
    static void top_k(A... a) { check(kd::top_k(a..., nullptr)); }
    // The mixing GEMV's partial sums go to a pooled workspace, returned as soon as the launch is queued.
    static void hc_collapse(const rd::hc_params & p, const float * X, int T, const float * fn, const float * base,
                            const float * scale, float * collapsed, float * post, float * comb) {
        dvec<float> ws;
        ws.resize(kd::hc_workspace_floats(p, T, false));
        check(kd::hc_collapse(p, X, T, fn, base, scale, collapsed, post, comb, ws.p, nullptr));
    }
    static void hc_head(const rd::hc_params & p, const float * X, int T, const float * fn, const float * base,
                        const float * scale, float * h) {
        dvec<float> ws;
        ws.resize(kd::hc_workspace_floats(p, T, true));
        check(kd::hc_head(p, X, T, fn, base, scale, h, ws.p, nullptr));
    }
    template <typename... A>
    static void hc_expand(const A &... a) { check(kd::hc_expand(a..., nullptr)); }
    template <typename... A>
    static void compress_windows(const A &... a) { check(kd::compress_windows(a..., nullptr)); }
    template <typename... A>
    static void index_scores(const A &... a) { check(kd::index_scores(a..., nullptr)); }
    static void sparse_attention(const rd::attn_params & p, const rd::attn_kv & kv, const float * q, int T, int pos0,
                                 float * out) {
        dvec<float> ws;  // the flash-decoding split's partials, when it splits
        const size_t n_ws = kd::sparse_attention_workspace_floats(p, kv, T, pos0);
        if (n_ws) ws.resize(n_ws);
        check(kd::sparse_attention(p, kv, q, T, pos0, out, ws.p, nullptr));
    }
    template <typename... A>
    static void grouped_linear(const A &... a) { check(kd::grouped_linear(a..., nullptr)); }
    template <typename... A>
    static void route(const A &... a) { check(kd::route(a..., nullptr)); }
    template <typename... A>
    static void expert_gate_up(const A &... a) { check(kd::expert_gate_up(a..., nullptr)); }
    template <typename... A>
    static void expert_down(const A &... a) { check(kd::expert_down(a..., nullptr)); }
};

struct d4_cuda_state_impl {
    const d4_cuda_model * model = nullptr;
    std::vector<steps::layer_state<d4_cuda_ops>> layers;
};

namespace {

// Weights: exact allocations outside the pool.
template <typename T>
void up(dvec<T> & d, const std::vector<T> & h, uint64_t & bytes) {
    d.pooled = false;
    d.upload(h);
    bytes += h.size() * sizeof(T);
}

} // namespace

std::string d4_cuda_unavailable_reason() {
    const v4::kernels::cuda::device_probe probe = v4::kernels::cuda::probe_devices();
    return probe.device_count > 0 ? std::string() : "no CUDA device: " + probe.unavailable_reason;
}

d4_cuda_device d4_cuda_device_info() {
    d4_cuda_device d;
    cudaDeviceProp prop{};
    if (!d4_cuda_unavailable_reason().empty() || cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
        cudaGetLastError();
        return d;
    }
    d.name = prop.name;
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, 0) == cudaSuccess &&
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0) == cudaSuccess) {
        d.peak_bandwidth = 2.0 * clock_khz * 1e3 * bus_bits / 8.0;
    }
    cudaGetLastError();
    return d;
}

std::shared_ptr<const d4_cuda_model> d4_cuda_upload(const d4_model & m) {
    if (const std::string why = d4_cuda_unavailable_reason(); !why.empty()) throw Error(ErrorCode::unsupported, why);
    const d4_config & c = m.cfg;
    if (c.hc_mult > kd::max_hc_streams) throw Error(ErrorCode::unsupported, "deepseek4 CUDA: more than 8 mHC streams");
    if (c.head_dim > kd::max_attn_head_dim) throw Error(ErrorCode::unsupported, "deepseek4 CUDA: head_dim above 512");
    if (c.n_experts > kd::max_router_experts) throw Error(ErrorCode::unsupported, "deepseek4 CUDA: more than 1024 experts");
    size_t free_b = 0, total_b = 0;
    check(cudaMemGetInfo(&free_b, &total_b), "querying the device memory");
    const uint64_t need = d4_count_params(m).total * sizeof(float);
    if (need > free_b) {
        char msg[200];
        std::snprintf(msg, sizeof msg, "deepseek4 CUDA: the fp32 weights need %.2f GiB, the device has %.2f GiB free of %.2f GiB",
                      double(need) / double(1ull << 30), double(free_b) / double(1ull << 30), double(total_b) / double(1ull << 30));
        throw Error(ErrorCode::out_of_memory, msg);
    }
    auto d = std::make_shared<d4_cuda_model>();
    d->cfg = c;
    uint64_t & b = d->bytes;
    up(d->tok_embd, m.tok_embd, b);
    up(d->head_fn, m.head_fn, b);
    up(d->head_base, m.head_base, b);
    up(d->head_scale, m.head_scale, b);
    up(d->out_norm, m.out_norm, b);
    up(d->lm_head, m.lm_head, b);
    up(d->rope_main, c.rope_main.inv_freq, b);
    up(d->rope_compress, c.rope_compress.inv_freq, b);
    for (const d4_layer & L : m.layers) {
        d4_dev_layer & o = d->layers.emplace_back();
        for (auto [dst, src] : {std::pair{&o.attn_hc_fn, &L.attn_hc_fn}, {&o.attn_hc_base, &L.attn_hc_base},
                                {&o.attn_hc_scale, &L.attn_hc_scale}, {&o.ffn_hc_fn, &L.ffn_hc_fn},
                                {&o.ffn_hc_base, &L.ffn_hc_base}, {&o.ffn_hc_scale, &L.ffn_hc_scale},
                                {&o.attn_norm, &L.attn_norm}, {&o.ffn_norm, &L.ffn_norm}, {&o.q_a, &L.q_a},
                                {&o.q_a_norm, &L.q_a_norm}, {&o.q_b, &L.q_b}, {&o.kv, &L.kv}, {&o.kv_norm, &L.kv_norm},
                                {&o.o_a, &L.o_a}, {&o.o_b, &L.o_b}, {&o.sinks, &L.sinks}, {&o.index_q_b, &L.index_q_b},
                                {&o.router, &L.router}, {&o.router_bias, &L.router_bias},
                                {&o.exp_gate_up, &L.exp_gate_up}, {&o.exp_down, &L.exp_down}, {&o.sh_gate, &L.sh_gate},
                                {&o.sh_up, &L.sh_up}, {&o.sh_down, &L.sh_down}}) {
            up(*dst, *src, b);
        }
        for (auto [dst, src] : {std::pair{&o.comp, &L.comp}, {&o.index_comp, &L.index_comp}}) {
            dst->dim = src->dim;
            dst->overlap = src->overlap;
            up(dst->kv_proj, src->kv_proj, b);
            up(dst->gate_proj, src->gate_proj, b);
            up(dst->pos_bias, src->pos_bias, b);
            up(dst->kv_norm, src->kv_norm, b);
        }
        up(o.index_weights, L.index_weights, b);
        for (int64_t e : L.tid2eid) {  // the route kernel indexes its scores with these
            if (e < 0 || e >= c.n_experts) {
                throw Error(ErrorCode::format, "deepseek4 CUDA: tid2eid names expert " + std::to_string(e) + " of " +
                                                   std::to_string(c.n_experts));
            }
        }
        up(o.tid2eid, L.tid2eid, b);
    }
    return d;
}

d4_cuda_state d4_cuda_new_state(const d4_cuda_model & m) {
    d4_cuda_state s;
    s.impl = std::make_shared<d4_cuda_state_impl>();
    s.impl->model = &m;
    s.impl->layers.resize(m.layers.size());
    return s;
}

uint64_t d4_cuda_weight_bytes(const d4_cuda_model & m) { return m.bytes; }

std::vector<float> d4_cuda_eval(const d4_cuda_model & m, d4_cuda_state & state, const std::vector<int32_t> & tokens,
                                bool all_logits) {
    const d4_config & c = m.cfg;
    const int S = int(tokens.size());
    if (S == 0) throw Error(ErrorCode::invalid_argument, "deepseek4: empty token sequence");
    if (!state.impl || state.impl->model != &m) throw Error(ErrorCode::invalid_argument, "deepseek4: state was made for another model");
    for (int32_t id : tokens) {
        if (id < 0 || id >= c.vocab) throw Error(ErrorCode::invalid_argument, "deepseek4: token id " + std::to_string(id) + " outside vocab");
    }
    dvec<int32_t> tok;
    tok.upload(tokens);
    const steps::context cx{c, {m.rope_main.p, int(c.rope_main.inv_freq.size()), c.rope_main.attn_factor},
                            {m.rope_compress.p, int(c.rope_compress.inv_freq.size()), c.rope_compress.attn_factor}};
    dvec<float> logits;
    steps::eval<d4_cuda_ops>(m, cx, tok.p, S, state.n_past, state.impl->layers.data(), all_logits, logits);
    state.n_past += S;
    std::vector<float> out(logits.n);
    check(cudaMemcpy(out.data(), logits.p, out.size() * sizeof(float), cudaMemcpyDeviceToHost), "logits");
    return out;
}

} // namespace v4::deepseek4

#else  // no CUDA in this build

namespace v4::deepseek4 {

struct d4_cuda_model {};
struct d4_cuda_state_impl {};

namespace {
[[noreturn]] void no_cuda() { throw Error(ErrorCode::unsupported, d4_cuda_unavailable_reason()); }
} // namespace

std::string d4_cuda_unavailable_reason() { return "this build has no CUDA (nvcc was not found at configure time)"; }
d4_cuda_device d4_cuda_device_info() { return {}; }
std::shared_ptr<const d4_cuda_model> d4_cuda_upload(const d4_model &) { no_cuda(); }
d4_cuda_state d4_cuda_new_state(const d4_cuda_model &) { no_cuda(); }
std::vector<float> d4_cuda_eval(const d4_cuda_model &, d4_cuda_state &, const std::vector<int32_t> &, bool) { no_cuda(); }
uint64_t d4_cuda_weight_bytes(const d4_cuda_model &) { return 0; }

} // namespace v4::deepseek4

#endif
