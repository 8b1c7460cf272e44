// v4 bench: load time, time to first token, prefill (pp) and decode (tg) speed, peak memory.
// Prompts are fixed pseudo-random token ids, so runs are comparable across builds; each
// repetition starts from an empty cache and the medians are reported. --roofline also measures the
// read bandwidth of the same number of threads (streaming the weights, right before and after each
// decode run) and relates decode (bytes read per token) and prefill (GFLOP/s) to it.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <thread>

#include "CliCommon.h"
#include "Commands.h"
#include "v4/roofline.h"
#include "v4/sampler.h"
#include "v4/session.h"

namespace v4cli {

namespace {

double median(std::vector<double> v) {
    if (v.empty()) {
        return 0.0;
    }
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

QJsonArray toJson(const std::vector<double> & v) {
    QJsonArray a;
    for (double x : v) {
        a.append(x);
    }
    return a;
}

std::vector<int32_t> benchTokens(size_t n, uint32_t n_vocab) {
    std::vector<int32_t> ids(n);
    uint64_t             state = 0x9e3779b97f4a7c15ull;
    for (auto & id : ids) {
        state = state * 6364136223846793005ull + 1442695040888963407ull; // fixed LCG: same prompt every run
        id    = static_cast<int32_t>((state >> 33) % n_vocab);
    }
    return ids;
}

int32_t argmax(std::span<const float> logits) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

} // namespace

int benchCommand(const QStringList & args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Measure load time, TTFT, prefill and decode speed and peak memory."));
    parser.addOptions({
        {{QStringLiteral("m"), QStringLiteral("model")}, QStringLiteral("GGUF model file (default: the default model)."),
         QStringLiteral("FILE"), defaultModelPath()},
        {{QStringLiteral("p"), QStringLiteral("n-prompt")}, QStringLiteral("Prompt tokens to prefill (default 512)."),
         QStringLiteral("N"), QStringLiteral("512")},
        {{QStringLiteral("n"), QStringLiteral("n-gen")}, QStringLiteral("Tokens to decode (default 128)."),
         QStringLiteral("N"), QStringLiteral("128")},
        {{QStringLiteral("t"), QStringLiteral("threads")}, QStringLiteral("CPU threads; 0: all cores (default 0)."),
         QStringLiteral("N"), QStringLiteral("0")},
        {{QStringLiteral("r"), QStringLiteral("repetitions")}, QStringLiteral("Repetitions; medians are reported (default 5)."),
         QStringLiteral("N"), QStringLiteral("5")},
        {QStringLiteral("ctx"), QStringLiteral("Context for the KV-cache size line (default: prompt + generated tokens)."),
         QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("json"), QStringLiteral("Print JSON instead of a table.")},
        {QStringLiteral("device"), QStringLiteral("cpu, cuda or auto (default cpu). On cuda the HBM bandwidth fraction is reported."),
         QStringLiteral("NAME"), QStringLiteral("cpu")},
        {QStringLiteral("roofline"), QStringLiteral("Also measure read bandwidth; report decode bytes/token and roofline fraction, prefill GFLOP/s.")},
        {{QStringLiteral("v"), QStringLiteral("verbose")}, QStringLiteral("Debug logs to stderr.")},
    });
    if (!parseCommandLine(parser, args, QStringLiteral("v4 bench [-m FILE] [-p 512] [-n 128] [-t N] [-r 5] [--ctx N] [--device cpu|cuda|auto] [--roofline] [--json]"))) {
        return k_exit_ok;
    }
    const int nPrompt = intValue(parser, QStringLiteral("n-prompt"), 1, 1 << 20);
    const int nGen    = intValue(parser, QStringLiteral("n-gen"), 0, 1 << 20);
    const int threads = threadCount(parser);
    const int reps    = intValue(parser, QStringLiteral("repetitions"), 1, 1000);
    const int kvCtx   = intValue(parser, QStringLiteral("ctx"), 0, 1 << 30);
    const bool json   = parser.isSet(QStringLiteral("json"));
    const bool roof   = parser.isSet(QStringLiteral("roofline"));
    v4::compute_device computeDevice{};
    if (!v4::parse_compute_device(parser.value(QStringLiteral("device")).toStdString(), computeDevice)) {
        throw UsageError("--device wants cpu, cuda or auto, got '" + parser.value(QStringLiteral("device")).toStdString() + "'");
    }
    setupCliLogging(parser.isSet(QStringLiteral("verbose")));

    const std::string path = modelPath(parser);
    Stopwatch         loadClock;
    const auto        model  = loadModel(path, threads);
    const double      loadMs = loadClock.ms();
    const auto &      info   = model->info();

    v4::session_params sp;
    sp.n_ctx     = static_cast<uint32_t>(nPrompt + nGen + 1);
    const uint64_t         kvContext = kvCtx > 0 ? uint64_t(kvCtx) : sp.n_ctx;
    const v4::kv_footprint kv        = model->kv_bytes(kvContext);  // the model's own formula
    sp.n_threads = threads;
    sp.device    = computeDevice;
    v4::session session(model, sp);
    const std::vector<int32_t> prompt = benchTokens(nPrompt, session.n_vocab());

    // Warm-up (not measured): touches the weights and sizes the buffers.
    session.prefill(std::span(prompt).first(std::min<size_t>(prompt.size(), 16)), interruptFlag());
    session.decode_one(argmax(session.logits()), interruptFlag());

    const int nThreads = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // Roofline: decode attends to nPrompt + 1 .. nPrompt + nGen positions; the middle one stands for all.
    const auto   traffic    = v4::decode_bytes(*model, static_cast<uint32_t>(nPrompt + (nGen + 1) / 2));
    const double tokenBytes = static_cast<double>(traffic.weight_bytes + traffic.kv_bytes);
    // The available bandwidth drifts within seconds on a shared host, so each decode run is related
    // to probes taken right before and right after it (bandwidth_probe streams the weights).
    std::optional<v4::bandwidth_probe> probe;
    if (roof) {
        probe.emplace(*model, nThreads);
    }

    v4::sampler         greedy(v4::sampler_greedy_params());
    std::vector<double> ttft, pp, tg, bandwidths, fractions;
    for (int r = 0; r < reps; ++r) {
        session.clear();
        Stopwatch clock;
        session.prefill(prompt, interruptFlag());
        const double prefillS = clock.seconds();
        int32_t      next     = argmax(session.logits());
        ttft.push_back(clock.ms());
        pp.push_back(nPrompt / prefillS);
        if (nGen > 0) {
            const double before = probe ? probe->measure() : 0.0;
            Stopwatch    decodeClock;
            for (int i = 0; i < nGen; ++i) { // decode + sample: a CUDA session moves one token id per step
                session.decode(next, interruptFlag());
                next = session.sample(greedy);
            }
            tg.push_back(nGen / decodeClock.seconds());
            if (probe) {
                bandwidths.push_back((before + probe->measure()) / 2.0);
                fractions.push_back(tg.back() * tokenBytes / bandwidths.back());
            }
        }
        if (!json) {
            std::fprintf(stderr, "\rrepetition %d/%d", r + 1, reps);
        }
    }
    if (!json) {
        std::fprintf(stderr, "\r%*s\r", 24, "");
    }
    const uint64_t rss       = peakRssBytes();
    if (probe && bandwidths.empty()) { // prefill only: one probe for the record
        bandwidths.push_back(probe->measure());
    }
    const double bandwidth  = roof ? median(bandwidths) : 0.0;
    const double decodeRate = tokenBytes * median(tg);                       // bytes/s achieved
    const double ppFlops    = v4::prefill_flops(*model, static_cast<uint32_t>(nPrompt));
    const double ppGflops   = ppFlops * median(pp) / nPrompt / 1e9;
    // GPU: achieved HBM fraction = bytes read per token (v4::decode_bytes) x decode tok/s / peak,
    // peak = 2 x memory clock x bus width / 8 (session::device_peak_bandwidth).
    const double hbmPeak    = session.device_peak_bandwidth();

    if (json) {
        QJsonObject o;
        o[QStringLiteral("model")]          = QString::fromStdString(path);
        o[QStringLiteral("architecture")]   = QString::fromStdString(info.architecture);
        o[QStringLiteral("n_params")]       = static_cast<qint64>(info.n_params);
        o[QStringLiteral("file_size")]      = static_cast<qint64>(info.file_size);
        o[QStringLiteral("weights_resident")] = info.weights_resident;
        o[QStringLiteral("x16_matrices")]   = static_cast<qint64>(info.x16_matrices);
        o[QStringLiteral("backend")]        = QString::fromStdString(session.device());
        o[QStringLiteral("device")]         = QString::fromStdString(session.device_note());
        o[QStringLiteral("threads")]        = nThreads;
        o[QStringLiteral("n_prompt")]       = nPrompt;
        o[QStringLiteral("n_gen")]          = nGen;
        o[QStringLiteral("repetitions")]    = reps;
        o[QStringLiteral("load_ms")]        = loadMs;
        o[QStringLiteral("ttft_ms")]        = median(ttft);
        o[QStringLiteral("pp_tok_s")]       = median(pp);
        o[QStringLiteral("tg_tok_s")]       = median(tg);
        o[QStringLiteral("peak_rss_bytes")] = static_cast<qint64>(rss);
        o[QStringLiteral("kv_bytes_per_token")] = kv.bytes_per_token;
        o[QStringLiteral("kv_bytes_total")]     = static_cast<qint64>(kv.total_bytes);
        o[QStringLiteral("kv_context")]         = static_cast<qint64>(kvContext);
        QJsonObject samples;
        samples[QStringLiteral("ttft_ms")]  = toJson(ttft);
        samples[QStringLiteral("pp_tok_s")] = toJson(pp);
        samples[QStringLiteral("tg_tok_s")] = toJson(tg);
        o[QStringLiteral("samples")]        = samples;
        if (roof) {
            QJsonObject r;
            r[QStringLiteral("read_bandwidth_gb_s")]      = bandwidth / 1e9;
            r[QStringLiteral("probe_bytes")]              = static_cast<qint64>(probe->bytes());
            r[QStringLiteral("decode_weight_bytes")]      = static_cast<qint64>(traffic.weight_bytes);
            r[QStringLiteral("decode_kv_bytes")]          = static_cast<qint64>(traffic.kv_bytes);
            r[QStringLiteral("decode_bytes_per_token")]   = tokenBytes;
            r[QStringLiteral("decode_gb_s")]              = decodeRate / 1e9;
            r[QStringLiteral("decode_roofline_tok_s")]    = bandwidth / tokenBytes;
            r[QStringLiteral("decode_roofline_fraction")] = median(fractions);
            QJsonArray perRun;
            for (size_t i = 0; i < fractions.size(); ++i) {
                perRun.append(QJsonObject{{QStringLiteral("read_bandwidth_gb_s"), bandwidths[i] / 1e9},
                                          {QStringLiteral("fraction"), fractions[i]}});
            }
            r[QStringLiteral("decode_runs")] = perRun;
            r[QStringLiteral("prefill_gflop")]            = ppFlops / 1e9;
            r[QStringLiteral("prefill_gflop_s")]          = ppGflops;
            o[QStringLiteral("roofline")]                 = r;
        }
        if (hbmPeak > 0) {
            QJsonObject h;
            h[QStringLiteral("peak_gb_s")]             = hbmPeak / 1e9;
            h[QStringLiteral("decode_bytes_per_token")] = tokenBytes;
            h[QStringLiteral("decode_gb_s")]           = decodeRate / 1e9;
            h[QStringLiteral("decode_fraction")]       = decodeRate / hbmPeak;
            o[QStringLiteral("hbm")]                   = h;
        }
        writeOut(QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString());
        return k_exit_ok;
    }

    auto range = [](const std::vector<double> & v) {
        char buf[64];
        if (v.empty()) return std::string("-");
        std::snprintf(buf, sizeof buf, "%.1f .. %.1f", *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
        return std::string(buf);
    };
    std::printf("model:   %s (%s, %.1f M params, %.1f MiB, weights %s, %u matrices in the x16 layout)\n", path.c_str(),
                info.architecture.c_str(), info.n_params / 1e6, info.file_size / double(1 << 20),
                info.weights_resident ? "in huge-page memory" : "memory-mapped", info.x16_matrices);
    std::printf("backend: %s, %d threads, %d repetitions (medians; min .. max)\n\n", session.device_note().c_str(), nThreads, reps);
    std::printf("| %-12s | %14s | %-20s |\n", "test", "median", "range");
    std::printf("|--------------|----------------|----------------------|\n");
    std::printf("| %-12s | %11.1f ms | %-20s |\n", "load", loadMs, "");
    std::printf("| %-12s | %11.1f ms | %-20s |\n", qPrintable(QStringLiteral("ttft pp%1").arg(nPrompt)), median(ttft), range(ttft).c_str());
    std::printf("| %-12s | %8.1f tok/s | %-20s |\n", qPrintable(QStringLiteral("pp%1").arg(nPrompt)), median(pp), range(pp).c_str());
    if (nGen > 0) {
        std::printf("| %-12s | %8.1f tok/s | %-20s |\n", qPrintable(QStringLiteral("tg%1").arg(nGen)), median(tg), range(tg).c_str());
    }
    std::printf("| %-12s | %10.1f MiB | %-20s |\n", "peak RSS", rss / double(1 << 20), "");
    std::printf("\nkv cache: %.1f bytes/token, %.1f MiB at context %llu (%s)\n", kv.bytes_per_token,
                kv.total_bytes / double(1 << 20), static_cast<unsigned long long>(kvContext), kv.layout.c_str());
    if (hbmPeak > 0 && nGen > 0) {
        std::printf("\nHBM: decode reads %.1f MiB/token x %.1f tok/s = %.1f GB/s = %.1f%% of peak %.1f GB/s "
                    "(2 x memory clock x bus width / 8)\n",
                    tokenBytes / double(1 << 20), median(tg), decodeRate / 1e9, 100.0 * decodeRate / hbmPeak, hbmPeak / 1e9);
    }
    if (roof) {
        std::printf("\nroofline (%d threads): read bandwidth %.1f GB/s (streaming the %.1f MiB of weights right before and after "
                    "each decode run; median)\n",
                    nThreads, bandwidth / 1e9, probe->bytes() / double(1 << 20));
        if (!fractions.empty()) {
            std::printf("  decode: %.1f MiB/token (weights %.1f + KV %.1f at context %d) -> %.1f GB/s = %.0f%% of roofline "
                        "(median of the runs' own fractions, %.0f .. %.0f%%; roofline %.1f tok/s)\n",
                        tokenBytes / double(1 << 20), traffic.weight_bytes / double(1 << 20), traffic.kv_bytes / double(1 << 20),
                        nPrompt + (nGen + 1) / 2, decodeRate / 1e9, 100.0 * median(fractions),
                        100.0 * *std::min_element(fractions.begin(), fractions.end()),
                        100.0 * *std::max_element(fractions.begin(), fractions.end()), bandwidth / tokenBytes);
        }
        std::printf("  prefill: %.1f GFLOP for %d tokens -> %.1f GFLOP/s\n", ppFlops / 1e9, nPrompt, ppGflops);
    }
    std::fflush(stdout);
    return k_exit_ok;
}

} // namespace v4cli
