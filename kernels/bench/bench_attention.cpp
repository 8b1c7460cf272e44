// Single-thread throughput of the attention block kernel (cpu/attention.h) in decode: one query
// position, `group` query heads sharing one KV head, against an f16 cache of n_keys rows.
// Shapes: the llama-shape benchmark model (group 4, head_dim 64) and Gemma 3 270M (group 4,
// head_dim 256), at the contexts of issue 4's scaling table. bytes_per_second counts the K and V
// bytes of the one head read. kv_heads > 1: the head's rows sit kv_heads * head_dim apart as in
// the engine's cache (the llama shape has 4 KV heads); the other heads are not read.
// V4_NO_AVX512=1 runs the AVX2 kernels instead.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "cpu/attention.h"

namespace {

namespace kc = v4::kernels::cpu;

void decode_attention(benchmark::State & state) {
    const int group = static_cast<int>(state.range(0));
    const int hd = static_cast<int>(state.range(1));
    const int n_keys = static_cast<int>(state.range(2));
    const int kv_heads = static_cast<int>(state.range(3));
    std::mt19937                          rng(11);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float>                    q(static_cast<size_t>(group) * hd), kv_f32(static_cast<size_t>(n_keys) * kv_heads * hd);
    for (auto & x : q) x = u(rng);
    std::vector<kc::kv_half> k(kv_f32.size()), v(kv_f32.size());
    for (auto & x : kv_f32) x = u(rng);
    kc::kv_from_f32(kv_f32.data(), k.data(), k.size());
    for (auto & x : kv_f32) x = u(rng);
    kc::kv_from_f32(kv_f32.data(), v.data(), v.size());

    kc::attend_block b;
    b.q = q.data();
    b.q_stride = q.size();
    b.n_q = 1;
    b.group = group;
    b.head_dim = hd;
    b.pos0 = n_keys - 1;
    b.scale = 0.125f;
    b.k = k.data();
    b.v = v.data();
    b.kv_stride = static_cast<size_t>(kv_heads) * hd;
    b.format = kc::kv_format::f16;
    std::vector<float>   m(group), l(group), o(static_cast<size_t>(group) * hd);
    std::vector<float>   scratch(kc::attend_scratch_floats(hd));
    const kc::attend_state st{m.data(), l.data(), o.data()};
    const kc::attend_block_fn fn = kc::find_attend_block_kernel(hd);
    for (auto _ : state) {
        kc::attend_state_init(st, group, hd);
        fn(b, 0, n_keys, st, scratch.data());
        benchmark::DoNotOptimize(o.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(n_keys) * hd * 2 * 2);
    state.counters["ns_per_key"] = benchmark::Counter(static_cast<double>(state.iterations()) * n_keys,
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

} // namespace

BENCHMARK(decode_attention)
    ->ArgNames({"group", "hd", "keys", "kv_heads"})
    ->ArgsProduct({{4}, {64, 256}, {640, 4096, 16384}, {1}})
    ->ArgsProduct({{4}, {64}, {640, 4096, 16384}, {4}})
    ->Unit(benchmark::kMicrosecond);
