// The device-resident forward of the dense families (see cuda_runner.h). The sequence of kernels
// mirrors models/llama.cpp and models/gemma3.cpp op for op; the fusions are: the residual add
// inside the next RMSNorm, the q/k/v GEMVs in one launch, bias + QK-norm + RoPE + KV append in one
// kernel, and the gate and up GEMVs with the GLU in their epilogue; with quantized activations the
// RMSNorm also writes q8_1 for the GEMVs after it. Sampling runs on the device.
#include "backend/cuda/cuda_runner.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "backend/cuda/cuda_plan.h"
#include "cpu/x16.h"
#include "backend/cuda/deepseek4/d4_cuda_runner.h"
#include "models/deepseek4/deepseek4_engine.h"
#include "models/model_impl.h"
#include "reference/dequantize.h"
#include "v4/error.h"

#if defined(V4_WITH_CUDA)
#include <cuda_runtime.h>

#include "cuda/dense_ops.h"
#include "cuda/device.h"
#include "cuda/sampling.h"
#endif

namespace v4::detail {

void device_runner::read_kv(int il, int n_tokens, float * k, float * v) {
    const size_t          n = static_cast<size_t>(n_tokens) * kv_dim();
    std::vector<uint16_t> hk(n), hv(n);
    read_kv(il, n_tokens, hk.data(), hv.data());
    for (size_t i = 0; i < n; ++i) {
        k[i] = kernels::ref::fp16_to_fp32(hk[i]);
        v[i] = kernels::ref::fp16_to_fp32(hv[i]);
    }
}

void device_runner::write_kv(int il, int n_tokens, const float * k, const float * v) {
    const size_t          n = static_cast<size_t>(n_tokens) * kv_dim();
    std::vector<uint16_t> hk(n), hv(n);
    for (size_t i = 0; i < n; ++i) {
        hk[i] = kernels::ref::fp32_to_fp16(k[i]);
        hv[i] = kernels::ref::fp32_to_fp16(v[i]);
    }
    write_kv(il, n_tokens, hk.data(), hv.data());
}

namespace {

// Checks that do not need a device: the family, the tensor types, the head size.
std::string model_unsupported_reason(const model_impl & m) {
    if (m.custom) {
        return "the CUDA backend runs the dense families (llama, qwen2, qwen3, gemma3); " + m.info.architecture +
               " runs on the CPU";
    }
    if (m.hp.head_dim % 32 != 0 || m.hp.head_dim > 256) {
        return "head_dim " + std::to_string(m.hp.head_dim) + " is not a multiple of 32 up to 256";
    }
    if (m.hp.n_head_kv == 0 || m.hp.n_head % m.hp.n_head_kv != 0) {
        return "n_head " + std::to_string(m.hp.n_head) + " is not a multiple of n_head_kv " + std::to_string(m.hp.n_head_kv);
    }
    if (m.hp.n_rot > m.hp.head_dim || m.hp.n_rot % 2 != 0) {
        return "rotary dims " + std::to_string(m.hp.n_rot) + " do not fit head_dim " + std::to_string(m.hp.head_dim);
    }
    return {};
}

} // namespace

#if defined(V4_WITH_CUDA)

namespace {

namespace kc = v4::kernels::cuda;

// The CUDA-free plan (cuda_plan.h) restates these kernel constants; they must agree.
static_assert(kc::attention_query_tile == cuda_prefill_attention_tile);
static_assert(kc::gemv_max_rows == cuda_gemv_max_rows);
static_assert(sizeof(kc::sample_adjust) == sizeof(sample_adjustment) &&
              offsetof(kc::sample_adjust, id) == offsetof(sample_adjustment, id) &&
              offsetof(kc::sample_adjust, bias) == offsetof(sample_adjustment, bias) &&
              offsetof(kc::sample_adjust, count) == offsetof(sample_adjustment, count));

void check(cudaError_t err, const char * what) {
    if (err != cudaSuccess) {
        cudaGetLastError();
        throw Error(err == cudaErrorMemoryAllocation ? ErrorCode::out_of_memory : ErrorCode::internal,
                    std::string("CUDA: ") + what + ": " + cudaGetErrorString(err));
    }
}

void check_launch(const char * what) {
    const std::string err = kc::take_last_error();
    if (!err.empty()) throw Error(ErrorCode::internal, std::string("CUDA: ") + what + ": " + err);
}

struct device_layer {
    kc::dev_weight wq, wk, wv, wo, gate, up, down;
    const float *  attn_norm = nullptr, * ffn_norm = nullptr;
    const float *  bq = nullptr, * bk = nullptr, * bv = nullptr, * q_norm = nullptr, * k_norm = nullptr;
    const float *  attn_post_norm = nullptr, * ffn_post_norm = nullptr;
};

// One model's weights on the device; shared by its sessions through weights_for().
struct device_weights {
    std::vector<void *>       allocations;
    uint64_t                  bytes = 0;
    kc::dev_weight            tok_embd, output;
    const float *             output_norm = nullptr;
    const float *             rope_freqs = nullptr;
    std::vector<device_layer> layers;

    device_weights(const device_weights &) = delete;
    device_weights() = default;
    ~device_weights() {
        for (void * p : allocations) cudaFree(p);
    }

    void * upload(const void * src, size_t bytes_) {
        void * p = nullptr;
        check(cudaMalloc(&p, bytes_), "allocating weights");
        allocations.push_back(p);
        bytes += bytes_;
        check(cudaMemcpy(p, src, bytes_, cudaMemcpyHostToDevice), "uploading weights");
        return p;
    }
    kc::dev_weight matrix(const weight & w, const std::string & name) {
        if (!kc::weight_supported(static_cast<uint32_t>(w.type), w.n_in)) {
            throw Error(ErrorCode::unsupported, "CUDA backend: tensor " + name + " has type " +
                                                    std::string(traits(w.type).name) + " and rows of " +
                                                    std::to_string(w.n_in) + " elements, which the kernels do not handle");
        }
        kc::dev_weight d;
        d.type = static_cast<uint32_t>(w.type);
        d.n_in = w.n_in;
        d.n_out = w.n_out;
        d.row_bytes = w.row_bytes;
        const size_t bytes_ = w.row_bytes * static_cast<size_t>(w.n_out);
        if (!w.x16) {
            d.data = static_cast<const uint8_t *>(upload(w.data, bytes_));
            return d;
        }
        std::vector<uint8_t> plain(bytes_); // rows repacked for the CPU kernels go up as GGUF blocks
        v4::kernels::cpu::unpack_rows_x16(d.type, w.data, plain.data(), w.n_in, w.n_out);
        d.data = static_cast<const uint8_t *>(upload(plain.data(), bytes_));
        return d;
    }
    const float * vec(const std::vector<float> & v) {
        return v.empty() ? nullptr : static_cast<const float *>(upload(v.data(), v.size() * sizeof(float)));
    }
};

std::shared_ptr<device_weights> upload_weights(const model_impl & m) {
    auto w = std::make_shared<device_weights>();
    w->tok_embd = w->matrix(m.tok_embd, "token_embd");
    w->output = m.output.data == m.tok_embd.data ? w->tok_embd : w->matrix(m.output, "output");
    w->output_norm = w->vec(m.output_norm);
    w->rope_freqs = w->vec(m.rope_freqs);
    for (size_t il = 0; il < m.layers.size(); ++il) {
        const layer &      L = m.layers[il];
        const std::string  blk = "blk." + std::to_string(il) + ".";
        device_layer       d;
        d.wq = w->matrix(L.wq, blk + "attn_q");
        d.wk = w->matrix(L.wk, blk + "attn_k");
        d.wv = w->matrix(L.wv, blk + "attn_v");
        d.wo = w->matrix(L.wo, blk + "attn_output");
        d.gate = w->matrix(L.ffn_gate, blk + "ffn_gate");
        d.up = w->matrix(L.ffn_up, blk + "ffn_up");
        d.down = w->matrix(L.ffn_down, blk + "ffn_down");
        d.attn_norm = w->vec(L.attn_norm);
        d.ffn_norm = w->vec(L.ffn_norm);
        d.bq = w->vec(L.bq);
        d.bk = w->vec(L.bk);
        d.bv = w->vec(L.bv);
        d.q_norm = w->vec(L.q_norm);
        d.k_norm = w->vec(L.k_norm);
        d.attn_post_norm = w->vec(L.attn_post_norm);
        d.ffn_post_norm = w->vec(L.ffn_post_norm);
        w->layers.push_back(d);
    }
    return w;
}

// Bytes upload_weights() will allocate (the matrices as stored, the f32 vectors).
uint64_t weight_upload_bytes(const model_impl & m) {
    auto mat = [](const weight & w) { return static_cast<uint64_t>(w.row_bytes) * static_cast<uint64_t>(w.n_out); };
    auto vec = [](const std::vector<float> & v) { return static_cast<uint64_t>(v.size()) * sizeof(float); };
    uint64_t total = mat(m.tok_embd) + (m.output.data == m.tok_embd.data ? 0 : mat(m.output)) + vec(m.output_norm) +
                     vec(m.rope_freqs);
    for (const layer & L : m.layers) {
        total += mat(L.wq) + mat(L.wk) + mat(L.wv) + mat(L.wo) + mat(L.ffn_gate) + mat(L.ffn_up) + mat(L.ffn_down);
        total += vec(L.attn_norm) + vec(L.ffn_norm) + vec(L.bq) + vec(L.bk) + vec(L.bv) + vec(L.q_norm) +
                 vec(L.k_norm) + vec(L.attn_post_norm) + vec(L.ffn_post_norm);
    }
    return total;
}

// Models whose weights are on the device, so that a second session of the same model reuses them.
std::mutex                                                         g_weights_mutex;
std::unordered_map<const model_impl *, std::weak_ptr<device_weights>> g_weights;

std::shared_ptr<device_weights> resident_weights(const model_impl & m) {
    std::lock_guard lock(g_weights_mutex);
    auto            it = g_weights.find(&m);
    return it == g_weights.end() ? nullptr : it->second.lock();
}

std::shared_ptr<device_weights> weights_for(const model_impl & m) {
    std::lock_guard lock(g_weights_mutex);
    if (auto it = g_weights.find(&m); it != g_weights.end()) {
        if (auto w = it->second.lock()) return w;
    }
    auto w = upload_weights(m);
    g_weights[&m] = w;
    return w;
}

struct device_info {
    std::string name;
    int         n_sm = 0;
    uint64_t    free_bytes = 0;
    double      peak_bandwidth = 0; // bytes/s
};

// Empty reason and the device's numbers, or why there is no usable device.
std::string probe(device_info & info) {
    const kc::device_probe p = kc::probe_devices();
    if (p.device_count == 0) return "no CUDA device: " + p.unavailable_reason;
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "cannot read the CUDA device properties";
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
        cudaGetLastError();
        return "cannot query the CUDA device memory";
    }
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, 0) != cudaSuccess ||
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0) != cudaSuccess) {
        cudaGetLastError();
        clock_khz = bus_bits = 0; // unknown: bench then reports no bandwidth fraction
    }
    info.peak_bandwidth = 2.0 * clock_khz * 1e3 * bus_bits / 8.0;
    info.name = prop.name;
    info.n_sm = prop.multiProcessorCount;
    info.free_bytes = free_b;
    return {};
}

std::string unavailable(const model_impl & m, uint32_t n_ctx, uint32_t n_batch, device_info & info,
                        cuda_memory_plan & plan) {
    if (std::string why = model_unsupported_reason(m); !why.empty()) return why;
    if (std::string why = probe(info); !why.empty()) return why;
    const uint64_t weights = resident_weights(m) ? 0 : weight_upload_bytes(m);
    plan = plan_cuda_memory(m.hp, weights, n_ctx, n_batch, info.free_bytes, info.n_sm);
    if (!plan.fits()) return "the model does not fit the free memory of " + info.name + ": " + plan.describe();
    return {};
}

class cuda_runner final : public device_runner {
public:
    cuda_runner(const model_impl & m, uint32_t n_ctx, uint32_t n_batch, bool quantize_activations,
                const device_info & dev, const cuda_memory_plan & plan)
        : m_m(m), m_hp(m.hp), m_n_ctx(n_ctx), m_n_batch(n_batch), m_q8(quantize_activations), m_dev(dev), m_plan(plan) {
        m_layout = plan_cuda_scratch(m_hp, n_batch, n_ctx, dev.n_sm);
        m_decode_splits = attention_splits(1, static_cast<int>(m_hp.n_head), static_cast<int>(n_ctx), dev.n_sm);
        try {
            check(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking), "creating a stream");
            m_weights = weights_for(m);
            const size_t layer_elems = static_cast<size_t>(n_ctx) * m_hp.kv_dim();
            check(cudaMalloc(&m_k_cache, layer_elems * m_hp.n_layer * sizeof(__half)), "allocating the K cache");
            check(cudaMalloc(&m_v_cache, layer_elems * m_hp.n_layer * sizeof(__half)), "allocating the V cache");
            check(cudaMalloc(&m_scratch, m_layout.total), "allocating the activations");
            // pinned: pos0, the ubatch's tokens, then the sampling result {token, status}
            check(cudaMallocHost(&m_host_in, (n_batch + 3) * sizeof(int32_t)), "allocating pinned host memory");
        } catch (...) {
            release();
            throw;
        }
    }
    ~cuda_runner() override { release(); }

    void forward(std::span<const int32_t> tokens, int pos0, bool all_logits, float * logits,
                 const std::atomic<bool> * cancel) override {
        const int T = static_cast<int>(tokens.size());
        if (T < 1 || static_cast<uint32_t>(T) > m_n_batch || pos0 < 0 || static_cast<uint32_t>(pos0 + T) > m_n_ctx) {
            throw Error(ErrorCode::internal, "CUDA forward: " + std::to_string(T) + " tokens at position " +
                                                 std::to_string(pos0) + " exceed the ubatch of " + std::to_string(m_n_batch) +
                                                 " or the context of " + std::to_string(m_n_ctx));
        }
        m_logits_ready = false;
        m_host_in[0] = pos0;
        std::copy(tokens.begin(), tokens.end(), m_host_in + 1);
        check(cudaMemcpyAsync(at<int32_t>(m_layout.pos0), m_host_in, sizeof(int32_t), cudaMemcpyHostToDevice, m_stream),
              "copying the position");
        check(cudaMemcpyAsync(at<int32_t>(m_layout.tokens), m_host_in + 1, T * sizeof(int32_t), cudaMemcpyHostToDevice,
                              m_stream),
              "copying the tokens");
        if (T == 1 && !all_logits) {
            launch_decode_graph();
        } else {
            const int splits = attention_splits(T, static_cast<int>(m_hp.n_head), pos0 + T, m_dev.n_sm);
            enqueue(T, splits, all_logits, cancel);
        }
        const int n_out = all_logits ? T : 1;
        if (logits != nullptr) {
            check(cudaMemcpyAsync(logits, at<float>(m_layout.logits),
                                  static_cast<size_t>(n_out) * m_hp.n_vocab * sizeof(float), cudaMemcpyDeviceToHost,
                                  m_stream),
                  "copying the logits");
        }
        check(cudaStreamSynchronize(m_stream), "running the forward pass");
        m_last_logits = at<float>(m_layout.logits) + static_cast<size_t>(n_out - 1) * m_hp.n_vocab;
        m_logits_ready = true;
    }

    void read_logits(float * logits) override {
        require_logits();
        check(cudaMemcpy(logits, m_last_logits, m_hp.n_vocab * sizeof(float), cudaMemcpyDeviceToHost),
              "copying the logits");
    }

    std::optional<int32_t> sample(sampler & smp) override {
        require_logits();
        const sampler_params & sp = smp.params();
        kc::sample_params      p;
        p.n_adjust = static_cast<int>(upload_adjustments(smp));
        p.logits = m_last_logits;
        p.work = at<float>(m_layout.sample_work);
        p.adjust = at<kc::sample_adjust>(m_layout.sample_adjust);
        p.n_vocab = static_cast<int>(m_hp.n_vocab);
        p.temperature = sp.temperature;
        p.top_k = sp.top_k;
        p.top_p = sp.top_p;
        p.min_p = sp.min_p;
        const bool rep = sp.repetition_penalty != 1.0f && sp.repetition_penalty > 0.0f;
        p.repetition_penalty = rep ? sp.repetition_penalty : 1.0f;
        p.presence_penalty = sp.presence_penalty;
        p.frequency_penalty = sp.frequency_penalty;
        p.uniform = sp.temperature > 0.0f ? smp.peek_uniform() : 0.0;
        p.result = at<kc::sample_result>(m_layout.sample_result);
        kc::sample(p, m_stream);
        check_launch("enqueuing the sampler");
        int32_t * host = m_host_in + m_n_batch + 1;
        check(cudaMemcpyAsync(host, p.result, 2 * sizeof(int32_t), cudaMemcpyDeviceToHost, m_stream),
              "copying the sampled token");
        check(cudaStreamSynchronize(m_stream), "sampling");
        switch (host[1]) {
            case kc::sample_ok: return host[0];
            case kc::sample_ok_drew: smp.consume_uniform(); return host[0];
            case kc::sample_too_many: return std::nullopt;
            case kc::sample_all_banned:
                throw Error(ErrorCode::invalid_argument, "sampler: every token is banned (all logits are -inf or NaN)");
            default: throw Error(ErrorCode::internal, "CUDA sampler: unknown status " + std::to_string(host[1]));
        }
    }

    void read_kv(int il, int n_tokens, uint16_t * k, uint16_t * v) override {
        const size_t bytes = static_cast<size_t>(n_tokens) * m_hp.kv_dim() * sizeof(__half);
        check(cudaMemcpy(k, layer_cache(0, il), bytes, cudaMemcpyDeviceToHost), "reading the K cache");
        check(cudaMemcpy(v, layer_cache(1, il), bytes, cudaMemcpyDeviceToHost), "reading the V cache");
    }

    void write_kv(int il, int n_tokens, const uint16_t * k, const uint16_t * v) override {
        const size_t bytes = static_cast<size_t>(n_tokens) * m_hp.kv_dim() * sizeof(__half);
        check(cudaMemcpy(layer_cache(0, il), k, bytes, cudaMemcpyHostToDevice), "writing the K cache");
        check(cudaMemcpy(layer_cache(1, il), v, bytes, cudaMemcpyHostToDevice), "writing the V cache");
    }

    std::string describe() const override { return m_dev.name + ": " + m_plan.describe(); }
    double      peak_bandwidth() const override { return m_dev.peak_bandwidth; }
    int         kv_dim() const override { return static_cast<int>(m_hp.kv_dim()); }
    using device_runner::read_kv;
    using device_runner::write_kv;

private:
    template <class T> T * at(size_t offset) const { return reinterpret_cast<T *>(m_scratch + offset); }

    void require_logits() const {
        if (!m_logits_ready) throw Error(ErrorCode::internal, "CUDA session: no logits (no forward pass finished)");
    }

    // smp's bias and penalty adjustments (sample_adjustments) copied to the device; returns how
    // many (distinct ids, at most n_vocab: the scratch holds n_vocab entries).
    size_t upload_adjustments(const sampler & smp) {
        m_adjust = sample_adjustments(smp, m_hp.n_vocab);
        if (!m_adjust.empty()) { // the same layout as kc::sample_adjust (static_assert above)
            check(cudaMemcpyAsync(at<kc::sample_adjust>(m_layout.sample_adjust), m_adjust.data(),
                                  m_adjust.size() * sizeof(sample_adjustment), cudaMemcpyHostToDevice, m_stream),
                  "copying the sampler's adjustments");
        }
        return m_adjust.size();
    }

    __half * layer_cache(int which, int il) const {
        return (which == 0 ? m_k_cache : m_v_cache) + static_cast<size_t>(il) * m_n_ctx * m_hp.kv_dim();
    }

    void release() {
        if (m_graph_exec != nullptr) cudaGraphExecDestroy(m_graph_exec);
        cudaFree(m_k_cache);
        cudaFree(m_v_cache);
        cudaFree(m_scratch);
        cudaFreeHost(m_host_in);
        if (m_stream != nullptr) cudaStreamDestroy(m_stream);
        m_graph_exec = nullptr;
        m_k_cache = m_v_cache = nullptr;
        m_scratch = nullptr;
        m_host_in = nullptr;
        m_stream = nullptr;
    }

    // The decode step reads its token and position from device memory, so one captured graph
    // serves every position; the attention split count is the one for the full context.
    void launch_decode_graph() {
        if (m_graph_exec == nullptr) {
            cudaGraph_t graph = nullptr;
            check(cudaStreamBeginCapture(m_stream, cudaStreamCaptureModeThreadLocal), "starting the graph capture");
            try {
                enqueue(1, m_decode_splits, false, nullptr);
            } catch (...) {
                cudaStreamEndCapture(m_stream, &graph);
                if (graph != nullptr) cudaGraphDestroy(graph);
                throw;
            }
            check(cudaStreamEndCapture(m_stream, &graph), "capturing the decode step");
            const cudaError_t err = cudaGraphInstantiate(&m_graph_exec, graph, 0);
            cudaGraphDestroy(graph);
            check(err, "instantiating the decode graph");
        }
        check(cudaGraphLaunch(m_graph_exec, m_stream), "launching the decode graph");
    }

    // Enqueues the forward of T tokens (tokens and pos0 already in device memory).
    void enqueue(int T, int n_split, bool all_logits, const std::atomic<bool> * cancel) {
        const hparams & hp = m_hp;
        const bool      gemma = m_m.family == arch::gemma3;
        const int       n_embd = static_cast<int>(hp.n_embd);
        const int       D = static_cast<int>(hp.head_dim);
        float * const   x = at<float>(m_layout.x), * const cur = at<float>(m_layout.cur);
        float * const   q = at<float>(m_layout.q), * const k = at<float>(m_layout.k), * const v = at<float>(m_layout.v);
        float * const   attn = at<float>(m_layout.attn), * const o = at<float>(m_layout.o);
        float * const   gate = at<float>(m_layout.gate), * const up = at<float>(m_layout.up);
        const int *     pos0 = at<int32_t>(m_layout.pos0);
        const device_weights & W = *m_weights;
        // GEMV ubatches with quantized activations: the RMSNorms write q8_1 alongside f32, the other
        // GEMV inputs (attention output, GLU output) are quantized before their projection.
        kc::q8_act         xq{at<int8_t>(m_layout.q8), at<float2>(m_layout.q8_ds)};
        const kc::q8_act * q8 = m_q8 && T <= kc::gemv_max_rows ? &xq : nullptr;

        kc::get_rows(W.tok_embd, at<int32_t>(m_layout.tokens), T,
                     gemma ? std::sqrt(static_cast<float>(n_embd)) : 1.0f, x, m_stream);
        const float * residual = nullptr; // the sub-block output not yet added to x
        for (uint32_t il = 0; il < hp.n_layer; ++il) {
            if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
                cudaStreamSynchronize(m_stream);
                throw Error(ErrorCode::cancelled, "evaluation cancelled");
            }
            const device_layer & L = W.layers[il];
            const bool           local = hp.is_local(il);

            kc::add_rms_norm(x, residual, L.attn_norm, cur, T, n_embd, hp.rms_eps, m_stream, q8);
            if (T <= kc::gemv_max_rows) {
                const kc::dev_weight * w[3] = {&L.wq, &L.wk, &L.wv};
                float * const          y[3] = {q, k, v};
                kc::gemv_multi(w, y, 3, cur, T, m_stream, q8);
            } else {
                kc::matmul(L.wq, cur, T, q, m_stream);
                kc::matmul(L.wk, cur, T, k, m_stream);
                kc::matmul(L.wv, cur, T, v, m_stream);
            }

            kc::qkv_params qp;
            qp.q = q;
            qp.k = k;
            qp.v = v;
            qp.bq = L.bq;
            qp.bk = L.bk;
            qp.bv = L.bv;
            qp.q_norm = L.q_norm;
            qp.k_norm = L.k_norm;
            qp.k_cache = layer_cache(0, static_cast<int>(il));
            qp.v_cache = layer_cache(1, static_cast<int>(il));
            qp.pos0 = pos0;
            qp.n_tokens = T;
            qp.n_head = static_cast<int>(hp.n_head);
            qp.n_head_kv = static_cast<int>(hp.n_head_kv);
            qp.head_dim = D;
            qp.n_rot = static_cast<int>(hp.n_rot);
            qp.neox = hp.rope == rope_kind::neox;
            qp.norm_eps = hp.rms_eps;
            if (gemma) {
                qp.freq_base = local ? hp.rope_base_local : hp.rope_base;
                qp.freq_scale = local ? 1.0f : hp.rope_scale;
            } else {
                qp.freq_base = hp.rope_base;
                qp.freq_scale = hp.rope_scale;
                qp.freq_factors = W.rope_freqs;
            }
            kc::qkv_rope_store(qp, m_stream);

            kc::attention_params ap;
            ap.q = q;
            ap.k_cache = qp.k_cache;
            ap.v_cache = qp.v_cache;
            ap.out = attn;
            ap.partial = at<float>(m_layout.partial);
            ap.pos0 = pos0;
            ap.n_tokens = T;
            ap.n_head = qp.n_head;
            ap.n_head_kv = qp.n_head_kv;
            ap.head_dim = D;
            ap.window = gemma && local ? static_cast<int>(hp.sliding_window) : 0;
            ap.n_split = n_split;
            ap.scale = gemma ? hp.attn_scale : 1.0f / std::sqrt(static_cast<float>(D));
            if (uses_prefill_attention(T)) {
                kc::attention_prefill(ap, m_stream);
            } else {
                kc::attention(ap, m_stream);
            }

            if (q8 != nullptr) {
                kc::quantize_q8_1(attn, T, hp.q_dim(), xq, m_stream);
                kc::gemv(L.wo, attn, T, o, m_stream, q8);
            } else {
                kc::matmul(L.wo, attn, T, o, m_stream);
            }
            if (gemma) kc::add_rms_norm(o, nullptr, L.attn_post_norm, o, T, n_embd, hp.rms_eps, m_stream);
            kc::add_rms_norm(x, o, L.ffn_norm, cur, T, n_embd, hp.rms_eps, m_stream, q8); // x += o

            const int act = gemma ? 1 : 0; // GeGLU (tanh) : SwiGLU
            if (T <= kc::gemv_max_rows) {
                kc::gemv_glu(L.gate, L.up, cur, T, act, gate, m_stream, q8);
            } else {
                kc::matmul(L.gate, cur, T, gate, m_stream);
                kc::matmul(L.up, cur, T, up, m_stream);
                kc::glu(gate, up, static_cast<int64_t>(T) * hp.n_ff, act, m_stream);
            }
            if (q8 != nullptr) {
                kc::quantize_q8_1(gate, T, hp.n_ff, xq, m_stream);
                kc::gemv(L.down, gate, T, o, m_stream, q8);
            } else {
                kc::matmul(L.down, gate, T, o, m_stream);
            }
            if (gemma) kc::add_rms_norm(o, nullptr, L.ffn_post_norm, o, T, n_embd, hp.rms_eps, m_stream);
            residual = o;
            check_launch("enqueuing a layer");
        }
        kc::add_rms_norm(x, residual, W.output_norm, cur, T, n_embd, hp.rms_eps, m_stream, q8);
        const int    n_out = all_logits ? T : 1;
        const size_t first = static_cast<size_t>(T - n_out) * n_embd; // the rows that get logits
        if (q8 != nullptr) {
            const kc::q8_act last{xq.q + first, xq.ds + first / 32};
            kc::gemv(W.output, cur + first, n_out, at<float>(m_layout.logits), m_stream, &last);
        } else {
            kc::matmul(W.output, cur + first, n_out, at<float>(m_layout.logits), m_stream);
        }
        check_launch("enqueuing the output projection");
    }

    const model_impl &              m_m;
    const hparams &                 m_hp;
    uint32_t                        m_n_ctx, m_n_batch;
    bool                            m_q8; // GEMV ubatches take q8_1 activations (precision fast)
    device_info                     m_dev;
    cuda_memory_plan                m_plan;
    cuda_scratch_layout             m_layout;
    int                             m_decode_splits = 1;
    std::shared_ptr<device_weights> m_weights;
    cudaStream_t                    m_stream = nullptr;
    __half *                        m_k_cache = nullptr;
    __half *                        m_v_cache = nullptr;
    char *                          m_scratch = nullptr;
    int32_t *                       m_host_in = nullptr; // pinned: pos0, the ubatch's tokens, the sample result
    cudaGraphExec_t                 m_graph_exec = nullptr;
    const float *                   m_last_logits = nullptr; // device: the last token's row of the last forward
    bool                            m_logits_ready = false;
    std::vector<sample_adjustment>  m_adjust; // kept: its capacity is reused every token
};

} // namespace

std::unique_ptr<device_runner> make_cuda_runner(const std::shared_ptr<const model> & m, uint32_t n_ctx,
                                                uint32_t n_batch, bool quantize_activations) {
    if (d4_model_of(m->impl()) != nullptr) return make_d4_cuda_runner(m); // DeepSeek-V4: its own device forward
    device_info      info;
    cuda_memory_plan plan;
    if (std::string why = unavailable(m->impl(), n_ctx, n_batch, info, plan); !why.empty()) {
        throw Error(plan.free_bytes > 0 && !plan.fits() ? ErrorCode::out_of_memory : ErrorCode::unsupported,
                    "CUDA backend unavailable: " + why);
    }
    return std::make_unique<cuda_runner>(m->impl(), n_ctx, n_batch, quantize_activations, info, plan);
}

#else // no CUDA in this build

std::unique_ptr<device_runner> make_cuda_runner(const std::shared_ptr<const model> & m, uint32_t, uint32_t, bool) {
    if (d4_model_of(m->impl()) != nullptr) return make_d4_cuda_runner(m); // says why it cannot run
    std::string why = model_unsupported_reason(m->impl());
    throw Error(ErrorCode::unsupported, "CUDA backend unavailable: " + (why.empty() ? "this build has no CUDA support" : why));
}

#endif

} // namespace v4::detail
