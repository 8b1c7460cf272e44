// Long-context benchmark of the DeepSeek-V4 forward on a random V4-shaped model (~43M parameters,
// built in memory by d4_synthetic_model): prefill in chunks up to each depth, then a few decode
// steps at that depth; reports tokens/s, the state the engine keeps (measured and by formula) and
// the peak RSS. Not a test: run by hand (niced), figures go to docs/PERFORMANCE.md.
//
//   bench_deepseek4_long [--depths 65536,262144,1048576] [--chunk 256] [--decode 8] [--threads 2] [--budget-s 1500]
//
// Rates are given per wall second (what a user waits) and per CPU second of the process (all its
// threads: the work done, whatever share of the cores a busy shared machine gave it). Every line is
// flushed as it is printed, so a log of a run cut short still holds each depth reached. With
// --budget-s (CPU seconds), prefill stops when the budget is spent; the per-token prefill cost is
// linear in the position (the indexer scores every compressed key), so the remaining time is
// extrapolated from a least-squares line through the measured blocks, and printed as such.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/thread_pool.h"
#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_kv.h"
#include "models/deepseek4/deepseek4_synthetic.h"

using namespace v4::deepseek4;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// CPU seconds of this process, all threads: on a shared machine the work done, whatever share of
// the cores the scheduler gave it.
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double peak_rss_mib() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_maxrss) / 1024.0;
}

std::vector<long> parse_list(const char * s) {
    std::vector<long> out;
    for (const char * p = s; *p;) {
        char * end = nullptr;
        out.push_back(std::strtol(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p) break;
    }
    return out;
}

} // namespace

int main(int argc, char ** argv) {
    std::vector<long> depths = {65536, 262144, 1048576};
    int chunk = 256, n_decode = 8, n_threads = 1;
    double budget_s = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--depths")) depths = parse_list(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--chunk")) chunk = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--decode")) n_decode = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--budget-s")) budget_s = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--threads")) n_threads = std::max(1, std::atoi(argv[i + 1]));
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line reaches the log as it is printed
    v4::detail::thread_pool pool(n_threads);
    const d4_config cfg = d4_synthetic_config();
    const auto t_build = clock_type::now();
    const d4_model m = d4_synthetic_model(cfg, 1234);
    const d4_param_count params = d4_count_params(m);
    std::printf("synthetic V4-shaped model: %.1fM parameters, %.2fM activated per token; built in %.1f s; %d thread(s), "
                "chunk %d\n",
                double(params.total) / 1e6, double(params.activated) / 1e6, seconds_since(t_build), n_threads, chunk);
    const d4_kv_format fmt = d4_kv_format::engine(cfg);
    std::printf("state growth (formula, fp32): %.1f B/token\n", d4_kv_bytes(cfg, fmt, 1).bytes_per_token);

    std::mt19937 rng(7);
    std::uniform_int_distribution<int32_t> token(0, cfg.vocab - 1);
    d4_state st = d4_new_state(m);
    std::vector<int32_t> ids(static_cast<size_t>(chunk));
    // Per-block timings (block = 16 chunks) for the extrapolation: (mid position, seconds per token).
    std::vector<std::pair<double, double>> blocks;
    const auto t_start = clock_type::now();
    double block_s = 0;
    long block_tokens = 0, prev_depth = 0;
    double prev_time = 0, prev_wall = 0, prefill_cpu = 0, decode_wall = 0;
    std::vector<std::pair<double, double>> decodes;  // (depth, seconds per decoded token)
    for (long depth : depths) {
        bool out_of_budget = false;
        while (st.n_past < depth) {
            const int n = int(std::min<long>(chunk, depth - st.n_past));
            ids.resize(size_t(n));
            for (int32_t & id : ids) id = token(rng);
            const double c0 = cpu_seconds();
            d4_eval(m, st, ids, false, &pool);
            const double spent = cpu_seconds() - c0;
            block_s += spent;
            prefill_cpu += spent;
            block_tokens += n;
            if (block_tokens >= 16L * chunk) {
                blocks.emplace_back(double(st.n_past) - block_tokens / 2.0, block_s / double(block_tokens));
                block_s = 0;
                block_tokens = 0;
                std::fprintf(stderr, "  %ld tokens, %.0f s wall, %.0f s cpu\n", long(st.n_past), seconds_since(t_start) - decode_wall,
                             prefill_cpu);
            }
            if (budget_s > 0 && prefill_cpu > budget_s) {
                out_of_budget = true;
                break;
            }
        }
        const double elapsed = prefill_cpu, wall = seconds_since(t_start) - decode_wall;
        if (out_of_budget) {
            // cost(p) = a + b p per token, least squares over the blocks, integrated over the rest.
            double sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (auto [x, y] : blocks) {
                sx += x; sy += y; sxx += x * x; sxy += x * y;
            }
            const double k = double(blocks.size());
            const double b = (k * sxy - sx * sy) / (k * sxx - sx * sx), a = (sy - b * sx) / k;
            const double p0 = double(st.n_past), p1 = double(depth);
            const double rest = a * (p1 - p0) + b * (p1 * p1 - p0 * p0) / 2.0;
            const double total = elapsed + rest;
            std::printf("depth %7ld: prefill stopped at %ld tokens after %.0f cpu s (%.0f s wall; budget); per-token cost fit "
                        "%.3g + %.3g * pos cpu s -> extrapolated %.0f cpu s to %ld, %.0f tok/s overall, %.0f tok/s for %ld..%ld\n",
                        depth, long(st.n_past), elapsed, wall, a, b, total, depth, double(depth) / total,
                        double(depth - prev_depth) / (total - prev_time), prev_depth, depth);
            if (decodes.size() >= 2) {  // decode cost vs depth: line through the last two measured depths
                const auto [d0, s0] = decodes[decodes.size() - 2];
                const auto [d1, s1] = decodes.back();
                const double decode_s = s1 + (s1 - s0) / (d1 - d0) * (p1 - d1);
                std::printf("depth %7ld: decode extrapolated from the last two measured depths: %.2f ms/token = %.1f tok/s\n",
                            depth, 1e3 * decode_s, 1.0 / decode_s);
            }
            break;
        }
        std::printf("depth %7ld: prefill %.0f s wall, %.0f cpu s; overall %.0f tok/s wall (%.0f per cpu s); for %ld..%ld "
                    "%.0f tok/s wall (%.0f per cpu s)\n",
                    depth, wall, elapsed, double(depth) / wall, double(depth) / elapsed, prev_depth, depth,
                    double(depth - prev_depth) / (wall - prev_wall), double(depth - prev_depth) / (elapsed - prev_time));
        prev_depth = depth;
        prev_time = elapsed;
        prev_wall = wall;
        // Decode at this depth; the decoded tokens stay in the context (a copy of the state would
        // time the copy's first reallocations instead), and the next depth's prefill goes on from there.
        const auto t_dec = clock_type::now();
        const double c_dec = cpu_seconds();
        for (int i = 0; i < n_decode; i++) d4_eval(m, st, {token(rng)}, false, &pool);
        const double per_token = (cpu_seconds() - c_dec) / n_decode, per_token_wall = seconds_since(t_dec) / n_decode;
        decode_wall += seconds_since(t_dec);
        decodes.emplace_back(double(depth), per_token);
        const d4_kv_size kv = d4_kv_bytes(cfg, fmt, uint64_t(st.n_past));
        std::printf("depth %7ld: decode %.2f ms/token wall = %.1f tok/s (%.2f cpu ms/token); state %.1f MiB measured, %.1f MiB by formula "
                    "(compressed %.1f + window %.2f + open windows %.2f); peak RSS %.0f MiB\n",
                    depth, 1e3 * per_token_wall, 1.0 / per_token_wall, 1e3 * per_token, double(d4_state_bytes(st)) / 1048576.0,
                    double(kv.total()) / 1048576.0, double(kv.compressed_bytes) / 1048576.0,
                    double(kv.window_bytes) / 1048576.0, double(kv.open_window_bytes) / 1048576.0, peak_rss_mib());
        prev_depth = long(st.n_past);  // the next segment's prefill starts after the decoded tokens
    }
    std::printf("peak RSS %.0f MiB\n", peak_rss_mib());
    return 0;
}
