// Single-thread throughput of the dot kernels as a matrix-vector product (one activation row
// against every weight row, as decode does: row by row, and four weight rows per gemv call, the
// `rows4` cases) and a 4-row product (prefill's inner loop).
// Sizes: a matrix that stays in L2 (the kernel's compute speed) and one far beyond the last-level
// cache (what DRAM delivers to one core). bytes_per_second counts weight bytes.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include <sys/mman.h>

#include "cpu/quant_dot.h"
#include "cpu/x16.h"
#include "reference/dequantize.h"

namespace {

namespace kc = v4::kernels::cpu;
using v4::kernels::qtype;

// Weights in transparent huge pages, as the engine loads them: with 4 KiB pages the DRAM cases
// would measure TLB misses more than the kernels.
template <class T>
struct huge_page_allocator {
    using value_type = T;
    huge_page_allocator() = default;
    template <class U>
    huge_page_allocator(const huge_page_allocator<U> &) {}
    T * allocate(size_t n) {
        constexpr size_t huge = size_t{2} << 20;
        const size_t     bytes = (n * sizeof(T) + huge - 1) / huge * huge;
        void *           p = std::aligned_alloc(huge, bytes);
        if (p == nullptr) {
            throw std::bad_alloc();
        }
        madvise(p, bytes, MADV_HUGEPAGE);
        return static_cast<T *>(p);
    }
    void deallocate(T * p, size_t) { std::free(p); }
    bool operator==(const huge_page_allocator &) const { return true; }
};
using weight_bytes = std::vector<uint8_t, huge_page_allocator<uint8_t>>;

// Random weight bytes with sane f16 block scales; q values are arbitrary bits (any pattern is a
// valid quant), the scales are kept finite so the float paths do no denormal/NaN work.
weight_bytes random_row_bytes(qtype t, int64_t n_in, int64_t rows, size_t & row_bytes) {
    std::mt19937 rng(7);
    weight_bytes out;
    row_bytes = 0;
    switch (t) {
        case qtype::f16: row_bytes = static_cast<size_t>(n_in) * 2; break;
        case qtype::q4_0: row_bytes = static_cast<size_t>(n_in / 32) * 18; break;
        case qtype::q5_0: row_bytes = static_cast<size_t>(n_in / 32) * 22; break;
        case qtype::q8_0: row_bytes = static_cast<size_t>(n_in / 32) * 34; break;
        case qtype::q4_k: row_bytes = static_cast<size_t>(n_in / 256) * 144; break;
        case qtype::q6_k: row_bytes = static_cast<size_t>(n_in / 256) * 210; break;
        default: break;
    }
    out.resize(row_bytes * static_cast<size_t>(rows));
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto & b : out) {
        b = static_cast<uint8_t>(byte(rng));
    }
    // f16 1/64 = 0x2400 as every scale (and every f16 weight), so values stay small and finite.
    auto put_half = [&](size_t off) { out[off] = 0x00; out[off + 1] = 0x24; };
    const size_t nb = out.size();
    if (t == qtype::f16) for (size_t o = 0; o < nb; o += 2) put_half(o);
    if (t == qtype::q4_0) for (size_t o = 0; o < nb; o += 18) put_half(o);
    if (t == qtype::q5_0) for (size_t o = 0; o < nb; o += 22) put_half(o);
    if (t == qtype::q8_0) for (size_t o = 0; o < nb; o += 34) put_half(o);
    if (t == qtype::q4_k) for (size_t o = 0; o < nb; o += 144) { put_half(o); put_half(o + 2); }
    if (t == qtype::q6_k) for (size_t o = 0; o < nb; o += 210) put_half(o + 208);
    return out;
}

void gemv(benchmark::State & state, qtype t, int n_rows_act) {
    const int64_t n_in = state.range(0);
    const int64_t rows = state.range(1);
    size_t        row_bytes = 0;
    const weight_bytes w = random_row_bytes(t, n_in, rows, row_bytes);
    const kc::dot_kernel * k = kc::find_dot_kernel(static_cast<uint32_t>(t));
    std::vector<float> x(static_cast<size_t>(n_in) * 4);
    std::mt19937       rng(3);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float & v : x) v = dist(rng);
    const size_t act_bytes = kc::act_row_bytes(k->act, n_in);
    std::vector<uint8_t> act(act_bytes * 4);
    for (int r = 0; r < 4; ++r) {
        kc::quantize_act_row(k->act, x.data() + r * n_in, act.data() + r * act_bytes, n_in);
    }
    std::vector<float> y(static_cast<size_t>(rows) * 4);
    for (auto _ : state) {
        if (n_rows_act == 0) { // decode's kernel: four weight rows per call
            for (int64_t o = 0; o < rows; o += 4) {
                const int n_w = static_cast<int>(std::min<int64_t>(4, rows - o));
                k->gemv(n_in, w.data() + static_cast<size_t>(o) * row_bytes, row_bytes, n_w, act.data(), &y[static_cast<size_t>(o)]);
            }
            benchmark::DoNotOptimize(y.data());
            continue;
        }
        for (int64_t o = 0; o < rows; ++o) {
            const uint8_t * wr = w.data() + static_cast<size_t>(o) * row_bytes;
            if (n_rows_act == 1 || k->dot4 == nullptr) {
                for (int r = 0; r < n_rows_act; ++r) {
                    y[static_cast<size_t>(o) * 4 + r] = k->dot(n_in, wr, act.data() + r * act_bytes);
                }
            } else {
                k->dot4(n_in, wr, act.data(), act_bytes, n_rows_act, &y[static_cast<size_t>(o) * 4]);
            }
        }
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
    state.SetLabel(k->isa);
}

// Decode's gemv on rows repacked to the x16 layout (cpu/x16.h), four rows per call.
void gemv_x16(benchmark::State & state, qtype t) {
    const int64_t          n_in = state.range(0);
    const int64_t          rows = state.range(1);
    const kc::dot_kernel * k = kc::find_dot_kernel_x16(static_cast<uint32_t>(t));
    if (k == nullptr) {
        state.SkipWithError("no x16 kernels on this CPU");
        return;
    }
    size_t       row_bytes = 0;
    weight_bytes w = random_row_bytes(t, n_in, rows, row_bytes);
    std::vector<uint8_t> tmp(row_bytes);
    for (int64_t o = 0; o < rows; ++o) {
        uint8_t * row = w.data() + static_cast<size_t>(o) * row_bytes;
        kc::repack_row_x16(static_cast<uint32_t>(t), row, tmp.data(), n_in);
        std::copy(tmp.begin(), tmp.end(), row);
    }
    std::vector<float>   x(static_cast<size_t>(n_in));
    std::mt19937         rng(3);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float & v : x) v = dist(rng);
    std::vector<uint8_t> act(kc::act_row_bytes(k->act, n_in));
    kc::quantize_act_row(k->act, x.data(), act.data(), n_in);
    std::vector<float> y(static_cast<size_t>(rows));
    for (auto _ : state) {
        for (int64_t o = 0; o < rows; o += 4) {
            k->gemv(n_in, w.data() + static_cast<size_t>(o) * row_bytes, row_bytes,
                    static_cast<int>(std::min<int64_t>(4, rows - o)), act.data(), &y[static_cast<size_t>(o)]);
        }
        benchmark::DoNotOptimize(y.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
    state.SetLabel(k->isa);
}

// {n_in, rows}: 1024 x 256 stays in L2; 1024 x 131072 (~70-270 MiB) streams from DRAM.
void shapes(benchmark::internal::Benchmark * b) {
    b->Args({1024, 256})->Args({1024, 131072})->Unit(benchmark::kMicrosecond);
}

} // namespace

BENCHMARK_CAPTURE(gemv, q4_0, qtype::q4_0, 1)->Apply(shapes);
BENCHMARK_CAPTURE(gemv_x16, q4_0, qtype::q4_0)->Apply(shapes);
BENCHMARK_CAPTURE(gemv_x16, q5_0, qtype::q5_0)->Apply(shapes);
BENCHMARK_CAPTURE(gemv_x16, q8_0, qtype::q8_0)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, q8_0, qtype::q8_0, 1)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, q4_k, qtype::q4_k, 1)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, q6_k, qtype::q6_k, 1)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, f16, qtype::f16, 1)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, q4_0_rows4, qtype::q4_0, 0)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, q5_0_rows4, qtype::q5_0, 0)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, q8_0_rows4, qtype::q8_0, 0)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, q4_k_rows4, qtype::q4_k, 0)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, q6_k_rows4, qtype::q6_k, 0)->Apply(shapes);
BENCHMARK_CAPTURE(gemv, q8_0_rows4, qtype::q8_0, 0)->Args({640, 262144})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(gemv, q8_0, qtype::q8_0, 1)->Args({640, 262144})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(gemv, q4_0_x4act, qtype::q4_0, 4)->Args({1024, 256})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(gemv, q8_0_x4act, qtype::q8_0, 4)->Args({1024, 256})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(gemv, q4_k_x4act, qtype::q4_k, 4)->Args({1024, 256})->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
