// The CPU backend: quantized matmul on the dot kernels of kernels/cpu, split by output rows over a
// persistent thread pool; the small ops (norm, rope, glu) in plain C++; attention in
// cpu_attention.cpp.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_attention.h"
#include "backend/cpu/thread_pool.h"
#include "cpu/glu.h"
#include "cpu/quant_dot.h"
#include "cpu/x16.h"
#include "reference/dequantize_legacy.h"
#include "v4/error.h"

namespace v4::detail {

namespace {

namespace kc = v4::kernels::cpu;

class cpu_backend final : public backend {
public:
    cpu_backend(int n_threads, bool two_pass) : m_pool(std::max(1, n_threads)), m_two_pass(two_pass) {
        const char * exact = std::getenv("V4_EXACT_MATMUL"); // debugging: f32 activations everywhere
        m_exact = exact != nullptr && exact[0] == '1';
    }

    const char * name() const override { return "cpu"; }
    int          n_threads() const override { return m_pool.size(); }

    void get_rows(const weight & w, std::span<const int32_t> ids, float * out) override {
        std::vector<uint8_t> plain(w.x16 ? w.row_bytes : 0);
        for (size_t i = 0; i < ids.size(); ++i) {
            const uint8_t * row = w.data + static_cast<size_t>(ids[i]) * w.row_bytes;
            if (w.x16) {
                kc::unpack_row_x16(static_cast<uint32_t>(w.type), row, plain.data(), w.n_in);
                row = plain.data();
            }
            if (!kernels::ref::dequantize_row_any(static_cast<uint32_t>(w.type), row, out + i * w.n_in, w.n_in)) {
                throw Error(ErrorCode::unsupported, std::string("cannot dequantize type ") + traits(w.type).name);
            }
        }
    }

    void matmul(const weight & w, const float * x, int n_rows, float * y) override {
        const matmul_target target{&w, y};
        matmul_shared_input(x, n_rows, {&target, 1});
    }

    // Quantizes x once per activation format its weights' kernels read, then runs the output rows
    // of every weight in one dispatch: one wake-up and one wait of the pool instead of one per
    // weight, and threads that finish one weight's rows early take the next weight's.
    void matmul_shared_input(const float * x, int n_rows, std::span<const matmul_target> targets) override {
        if (targets.empty()) {
            return;
        }
        const int64_t n_in = targets[0].w->n_in;
        std::vector<std::vector<uint8_t>> plain; // the exact kernels read GGUF blocks: x16 rows unpacked (debugging only)
        m_plans.clear();
        m_slots.clear();
        size_t act_total = 0;
        int    n_tasks = 0;
        for (const matmul_target & t : targets) {
            if (t.w->n_in != n_in) {
                throw Error(ErrorCode::internal, "matmul_shared_input: the weights differ in n_in");
            }
            matmul_plan p;
            p.w = *t.w;
            p.y = t.y;
            if (p.w.x16 && m_exact) {
                p.w = unpack_x16(p.w, plain.emplace_back());
            }
            const auto type = static_cast<uint32_t>(p.w.type);
            p.k = m_exact ? kc::find_dot_kernel_exact(type) : p.w.x16 ? kc::find_dot_kernel_x16(type) : kc::find_dot_kernel(type);
            if (p.k == nullptr) {
                throw Error(ErrorCode::unsupported, std::string("no CPU matmul kernel for type ") + traits(p.w.type).name);
            }
            p.slot = std::find_if(m_slots.begin(), m_slots.end(), [&](const act_slot & s) { return s.format == p.k->act; }) - m_slots.begin();
            if (p.slot == m_slots.size()) {
                // With two-pass activations the rounding residual x - deq(q(x)) is quantized too and
                // dotted as a second row, which cuts the activation error ~100x for twice the
                // integer work (free when memory-bound).
                act_slot s;
                s.format = p.k->act;
                s.two_pass = m_two_pass && s.format != kc::act_format::f32;
                s.bytes = kc::act_row_bytes(s.format, n_in);
                s.stride = s.bytes * (s.two_pass ? 2 : 1);
                s.offset = act_total;
                act_total += s.stride * static_cast<size_t>(n_rows);
                m_slots.push_back(s);
            }
            const int64_t per_thread = (p.w.n_out + m_pool.size() - 1) / m_pool.size();
            p.gemv = n_rows == 1 && p.k->gemv != nullptr && !m_slots[p.slot].two_pass;
            // Decode with a gemv kernel: chunks of whole four-row calls. One, two or four chunks per
            // thread measured the same within run-to-run noise; chunks that shrink towards the end
            // of the matrix were slower (each start of a stream waits on DRAM). Otherwise four
            // chunks per thread: enough to even out a thread that starts late, and long runs of
            // consecutive rows, so each thread reads one long stream that the hardware prefetcher
            // follows. (A 64-row cap cost Gemma 3 270M decode ~10-15%: each restart of the stream
            // waits on DRAM latency.)
            p.chunk = p.gemv ? std::max<int64_t>((per_thread / 4 + 3) / 4 * 4, 4) : std::max<int64_t>(per_thread / 4, 1);
            p.first_task = n_tasks;
            n_tasks += static_cast<int>((p.w.n_out + p.chunk - 1) / p.chunk);
            m_plans.push_back(p);
        }
        // 1. x -> each activation format, once per call
        m_act.resize(act_total);
        const auto quantize = [&](int task, int) {
            const act_slot & s = m_slots[static_cast<size_t>(task / n_rows)];
            const int        r = task % n_rows;
            quantize_act(s, x + static_cast<size_t>(r) * n_in, m_act.data() + s.offset + static_cast<size_t>(r) * s.stride, n_in);
        };
        const int n_quantize = n_rows * static_cast<int>(m_slots.size());
        if (n_rows == 1) {
            for (int task = 0; task < n_quantize; ++task) {
                quantize(task, 0); // decode: a microsecond of work, less than waking the pool costs
            }
        } else {
            m_pool.run(n_quantize, quantize);
        }
        // 2. the output rows of all weights, in chunks, in one dispatch
        m_pool.run(n_tasks, [&](int task, int) {
            size_t i = m_plans.size() - 1;
            while (task < m_plans[i].first_task) {
                --i;
            }
            const matmul_plan & p = m_plans[i];
            const act_slot &    s = m_slots[p.slot];
            const int64_t       o0 = (task - p.first_task) * p.chunk;
            const int64_t       o1 = std::min(p.w.n_out, o0 + p.chunk);
            if (p.gemv) {
                gemv_rows(p, m_act.data() + s.offset, o0, o1);
            } else {
                dot_rows(p, s, m_act.data() + s.offset, n_rows, o0, o1);
            }
        });
    }

    void rms_norm(const float * x, const float * w, int n_rows, int n, float eps, float * y) override {
        for (int r = 0; r < n_rows; ++r) {
            const float * xr = x + static_cast<size_t>(r) * n;
            float *       yr = y + static_cast<size_t>(r) * n;
            double        ss = 0.0;
            for (int i = 0; i < n; ++i) {
                ss += static_cast<double>(xr[i]) * xr[i];
            }
            const float inv = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
            for (int i = 0; i < n; ++i) {
                yr[i] = xr[i] * inv * w[i];
            }
        }
    }

    void rope(float * x, int n_rows, int n_head, int head_dim, const int32_t * pos, const rope_params & p) override {
        const int           half = p.n_rot / 2;
        std::vector<float>  cs(static_cast<size_t>(half) * 2);
        for (int r = 0; r < n_rows; ++r) {
            for (int i = 0; i < half; ++i) {
                double inv_freq = std::pow(static_cast<double>(p.freq_base), -2.0 * i / p.n_rot);
                if (p.freq_factors != nullptr) {
                    inv_freq /= p.freq_factors[i];
                }
                const double theta = static_cast<double>(pos[r]) * p.freq_scale * inv_freq;
                cs[2 * i] = static_cast<float>(std::cos(theta));
                cs[2 * i + 1] = static_cast<float>(std::sin(theta));
            }
            for (int h = 0; h < n_head; ++h) {
                float * v = x + (static_cast<size_t>(r) * n_head + h) * head_dim;
                for (int i = 0; i < half; ++i) {
                    const int   i0 = p.kind == rope_kind::neox ? i : 2 * i;
                    const int   i1 = p.kind == rope_kind::neox ? i + half : 2 * i + 1;
                    const float c = cs[2 * i], s = cs[2 * i + 1];
                    const float x0 = v[i0], x1 = v[i1];
                    v[i0] = x0 * c - x1 * s;
                    v[i1] = x0 * s + x1 * c;
                }
            }
        }
    }

    void glu(float * gate, const float * up, size_t n, glu_kind kind) override {
        constexpr size_t k_block = 4096;
        const int        n_blocks = static_cast<int>((n + k_block - 1) / k_block);
        m_pool.run(n_blocks, [&](int b, int) {
            const size_t i0 = static_cast<size_t>(b) * k_block;
            const size_t i1 = std::min(n, i0 + k_block);
            if (kind == glu_kind::silu) {
                kc::glu_silu(gate + i0, up + i0, i1 - i0);
            } else {
                kc::glu_gelu_tanh(gate + i0, up + i0, i1 - i0);
            }
        });
    }

    void attention(const attention_args & a) override { m_attention.run(m_pool, a); }

private:
    // The activations of a shared-input matmul in one format, rows at m_act + offset + r * stride.
    struct act_slot {
        kc::act_format format = kc::act_format::f32;
        bool           two_pass = false; // each row followed by its quantized rounding residual
        size_t         bytes = 0;        // one quantized row
        size_t         stride = 0;
        size_t         offset = 0;
    };
    // One weight of a shared-input matmul: its kernel and its tasks in the call's dispatch.
    struct matmul_plan {
        weight                 w;
        float *                y = nullptr;
        const kc::dot_kernel * k = nullptr;
        size_t                 slot = 0;
        bool                   gemv = false;
        int64_t                chunk = 0; // output rows per task
        int                    first_task = 0;
    };

    static weight unpack_x16(const weight & w, std::vector<uint8_t> & storage) {
        storage.resize(w.row_bytes * static_cast<size_t>(w.n_out));
        kc::unpack_rows_x16(static_cast<uint32_t>(w.type), w.data, storage.data(), w.n_in, w.n_out);
        weight gguf_rows = w;
        gguf_rows.data = storage.data();
        gguf_rows.x16 = false;
        return gguf_rows;
    }

    static void quantize_act(const act_slot & s, const float * x, uint8_t * dst, int64_t n) {
        kc::quantize_act_row(s.format, x, dst, n);
        if (s.two_pass) {
            thread_local std::vector<float> resid;
            resid.resize(static_cast<size_t>(n));
            kc::dequantize_act_row(s.format, dst, resid.data(), n);
            for (int64_t i = 0; i < n; ++i) {
                resid[i] = x[i] - resid[i];
            }
            kc::quantize_act_row(s.format, resid.data(), dst + s.bytes, n);
        }
    }

    // Decode with a gemv kernel: four weight rows per call, which share the activation loads and
    // the horizontal sums; the kernel prefetches ahead, as the hardware follows four side-by-side
    // streams poorly.
    static void gemv_rows(const matmul_plan & p, const uint8_t * act, int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; o += 4) {
            p.k->gemv(p.w.n_in, p.w.data + static_cast<size_t>(o) * p.w.row_bytes, p.w.row_bytes,
                      static_cast<int>(std::min<int64_t>(4, o1 - o)), act, p.y + o);
        }
    }

    // Output rows [o0, o1) for all activation rows; each weight row is reused across a tile of
    // activation rows.
    static void dot_rows(const matmul_plan & p, const act_slot & s, const uint8_t * act, int n_rows, int64_t o0, int64_t o1) {
        const weight &         w = p.w;
        const kc::dot_kernel * k = p.k;
        float *                y = p.y;
        const int64_t          n_out = w.n_out;
        const size_t           act_bytes = s.bytes;
        const size_t           act_stride = s.stride;
        const bool             two_pass = s.two_pass;
        constexpr int          k_tile = 32; // activation rows per pass over a weight chunk
        for (int t0 = 0; t0 < n_rows; t0 += k_tile) {
            const int t1 = std::min(n_rows, t0 + k_tile);
            if (k->tile != nullptr && !two_pass && n_rows > 1) {
                // register tiles of 4 weight rows x 4 activation rows (prefill)
                for (int64_t o = o0; o < o1; o += 4) {
                    const int n_w = static_cast<int>(std::min<int64_t>(4, o1 - o));
                    for (int t = t0; t < t1; t += 4) {
                        k->tile(w.n_in, w.data + static_cast<size_t>(o) * w.row_bytes, w.row_bytes, n_w,
                                act + static_cast<size_t>(t) * act_stride, act_stride, std::min(4, t1 - t),
                                y + static_cast<size_t>(t) * n_out + o, static_cast<size_t>(n_out));
                    }
                }
                continue;
            }
            for (int64_t o = o0; o < o1; ++o) {
                const uint8_t * wrow = w.data + static_cast<size_t>(o) * w.row_bytes;
                int t = t0;
                if (k->dot4 != nullptr && two_pass) {
                    // rows (t, pass 0), (t, pass 1), (t+1, pass 0), (t+1, pass 1) are consecutive
                    for (; t + 1 < t1; t += 2) {
                        float out[4];
                        k->dot4(w.n_in, wrow, act + static_cast<size_t>(t) * act_stride, act_bytes, 4, out);
                        y[static_cast<size_t>(t) * n_out + o] = out[0] + out[1];
                        y[static_cast<size_t>(t + 1) * n_out + o] = out[2] + out[3];
                    }
                } else if (k->dot4 != nullptr) {
                    for (; t + 1 < t1; t += 4) {
                        float     out[4];
                        const int n_act = std::min(4, t1 - t);
                        k->dot4(w.n_in, wrow, act + static_cast<size_t>(t) * act_stride, act_stride, n_act, out);
                        for (int r = 0; r < n_act; ++r) {
                            y[static_cast<size_t>(t + r) * n_out + o] = out[r];
                        }
                    }
                }
                for (; t < t1; ++t) {
                    const uint8_t * at = act + static_cast<size_t>(t) * act_stride;
                    float           sum = k->dot(w.n_in, wrow, at);
                    if (two_pass) {
                        sum += k->dot(w.n_in, wrow, at + act_bytes);
                    }
                    y[static_cast<size_t>(t) * n_out + o] = sum;
                }
            }
        }
    }

    thread_pool                     m_pool;
    bool                            m_two_pass = false;
    bool                            m_exact = false;
    std::vector<uint8_t>            m_act;    // quantized activations of the current matmul, per act_slot
    std::vector<act_slot>           m_slots;  // of the current matmul
    std::vector<matmul_plan>        m_plans;  // of the current matmul
    cpu_attention                   m_attention;
};

} // namespace

std::unique_ptr<backend> make_cpu_backend(int n_threads, bool two_pass_activations) {
    return std::make_unique<cpu_backend>(n_threads, two_pass_activations);
}

} // namespace v4::detail
