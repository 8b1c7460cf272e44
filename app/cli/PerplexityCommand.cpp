// v4 perplexity: perplexity of a text file over chunks of --ctx tokens, and the KL divergence of
// this model's next-token distributions against a saved base (docs/cli.md has the file format).
//
// As in llama.cpp's perplexity tool, each chunk starts from an empty cache (BOS first when the
// model uses one) and only its second half is scored, so every scored token sees at least ctx/2
// tokens of context.
#include <QFile>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>

#include "CliCommon.h"
#include "Commands.h"
#include "v4/session.h"
#include "v4/tokenizer.h"

namespace v4cli {

namespace {

constexpr char     k_kl_magic[4] = {'V', '4', 'K', 'L'};
constexpr uint32_t k_kl_version  = 1;
constexpr uint32_t k_kl_top_k    = 32;

// Little-endian header of a --kl-base file; records follow (see KlRecord).
struct KlHeader {
    char     magic[4];
    uint32_t version;
    uint32_t n_vocab;
    uint32_t n_ctx;
    uint32_t n_chunks;
    uint32_t n_scored; // per chunk
    uint32_t top_k;
    uint32_t reserved;
    uint64_t text_hash; // FNV-1a over the token ids of the scored chunks
};
static_assert(sizeof(KlHeader) == 40);

struct KlEntry {
    int32_t id;
    float   logit;
};

uint64_t fnv1a(std::span<const int32_t> ids) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int32_t id : ids) {
        uint8_t b[4];
        std::memcpy(b, &id, 4);
        for (uint8_t x : b) {
            h = (h ^ x) * 0x100000001b3ull;
        }
    }
    return h;
}

double logSumExp(std::span<const float> row) {
    const float m = *std::max_element(row.begin(), row.end());
    double      s = 0.0;
    for (float x : row) {
        s += std::exp(static_cast<double>(x) - m);
    }
    return m + std::log(s);
}

std::string readFile(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw FileError(path, v4::Error(v4::ErrorCode::io, std::string("cannot open: ") + std::strerror(errno)));
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

int perplexityCommand(const QStringList & args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Perplexity of a text file; KL divergence against a base model's saved log-probs."));
    addModelOptions(parser, 512);
    parser.addPositionalArgument(QStringLiteral("TEXTFILE"), QStringLiteral("The text to score (or use -f)."), QStringLiteral("[TEXTFILE]"));
    parser.addOptions({
        {{QStringLiteral("f"), QStringLiteral("file")}, QStringLiteral("UTF-8 text to score."), QStringLiteral("TEXT")},
        {QStringLiteral("chunks"), QStringLiteral("Score at most N chunks (default: all)."), QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("kl-base"), QStringLiteral("Save this model's top-%1 log-probs to OUT for a later --kl-compare.").arg(k_kl_top_k),
         QStringLiteral("OUT.bin")},
        {QStringLiteral("kl-compare"), QStringLiteral("Report KL divergence and top-1 agreement against BASE."), QStringLiteral("BASE.bin")},
        {QStringLiteral("precision"),
         QStringLiteral("Activation precision of the CPU matmuls: fast (default) or accurate (also quantizes the rounding "
                        "residual: logits match an f32 reference, for comparing two files' weights)."),
         QStringLiteral("MODE"), QStringLiteral("fast")},
    });
    if (!parseCommandLine(parser, args, QStringLiteral("v4 perplexity [-m FILE] (-f TEXT | TEXTFILE) [--ctx 512] [--precision fast|accurate] "
                                                               "[--kl-base OUT.bin | --kl-compare BASE.bin]"))) {
        return k_exit_ok;
    }
    const QStringList positional = parser.positionalArguments();
    if (parser.isSet(QStringLiteral("file")) == !positional.isEmpty() || positional.size() > 1) {
        throw UsageError("needs the text file: -f TEXT or one TEXTFILE argument");
    }
    if (parser.isSet(QStringLiteral("kl-base")) && parser.isSet(QStringLiteral("kl-compare"))) {
        throw UsageError("--kl-base and --kl-compare exclude each other");
    }
    const QString precision = parser.value(QStringLiteral("precision"));
    if (precision != QLatin1String("fast") && precision != QLatin1String("accurate")) {
        throw UsageError("--precision: '" + precision.toStdString() + "' is neither fast nor accurate");
    }
    int       nCtx      = intValue(parser, QStringLiteral("ctx"), 16, 1 << 20);
    int       maxChunks = intValue(parser, QStringLiteral("chunks"), 0, 1 << 30);
    const int threads   = threadCount(parser);
    setupCliLogging(parser.isSet(QStringLiteral("verbose")));

    // --kl-compare: the base decides ctx and chunks.
    std::ifstream base;
    KlHeader      baseHeader {};
    const std::string basePath = QFile::encodeName(parser.value(QStringLiteral("kl-compare"))).toStdString();
    if (!basePath.empty()) {
        base.open(basePath, std::ios::binary);
        if (!base || !base.read(reinterpret_cast<char *>(&baseHeader), sizeof baseHeader) ||
            std::memcmp(baseHeader.magic, k_kl_magic, 4) != 0 || baseHeader.version != k_kl_version) {
            throw FileError(basePath, v4::Error(v4::ErrorCode::format, "not a v4 --kl-base file (bad magic or version)"));
        }
        nCtx      = static_cast<int>(baseHeader.n_ctx);
        maxChunks = static_cast<int>(baseHeader.n_chunks);
    }

    const std::string textPath = QFile::encodeName(positional.isEmpty() ? parser.value(QStringLiteral("file")) : positional.first()).toStdString();
    const std::string text     = readFile(textPath);
    const std::string path     = modelPath(parser);
    const auto        model    = loadModel(path, threads);
    const std::optional<v4::tokenizer> tok(openTokenizer(path));
    const std::vector<int32_t> tokens = tok->encode(text, /*add_special=*/false, /*parse_special=*/false);

    int nChunks = static_cast<int>(tokens.size() / nCtx);
    if (maxChunks > 0) {
        nChunks = std::min(nChunks, maxChunks);
    }
    if (nChunks == 0) {
        throw FileError(textPath, v4::Error(v4::ErrorCode::invalid_argument,
            "too short: " + std::to_string(tokens.size()) + " tokens, one chunk needs " + std::to_string(nCtx)));
    }
    const int      first    = nCtx / 2;
    const uint32_t nScored  = static_cast<uint32_t>(nCtx - 1 - first);
    const uint64_t textHash = fnv1a(std::span(tokens).first(static_cast<size_t>(nChunks) * nCtx));

    v4::session_params sp;
    sp.n_ctx     = static_cast<uint32_t>(nCtx);
    sp.n_threads = threads;
    sp.precision = precision == QLatin1String("accurate") ? v4::activation_precision::accurate : v4::activation_precision::fast;
    v4::session    session(model, sp);
    const uint32_t nVocab = session.n_vocab();

    if (base.is_open() && (baseHeader.n_vocab != nVocab || baseHeader.text_hash != textHash ||
                           baseHeader.n_scored != nScored || baseHeader.top_k == 0 || baseHeader.top_k > nVocab)) {
        throw FileError(basePath, v4::Error(v4::ErrorCode::invalid_argument,
            "made from another text, context or vocabulary (base: vocab " + std::to_string(baseHeader.n_vocab) +
            ", ctx " + std::to_string(baseHeader.n_ctx) + ", chunks " + std::to_string(baseHeader.n_chunks) +
            "; here: vocab " + std::to_string(nVocab) + ", " + std::to_string(nChunks) + " chunks)"));
    }
    std::ofstream out;
    const std::string outPath = QFile::encodeName(parser.value(QStringLiteral("kl-base"))).toStdString();
    if (!outPath.empty()) {
        out.open(outPath, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw FileError(outPath, v4::Error(v4::ErrorCode::io, std::string("cannot create: ") + std::strerror(errno)));
        }
        KlHeader h {};
        std::memcpy(h.magic, k_kl_magic, 4);
        h.version   = k_kl_version;
        h.n_vocab   = nVocab;
        h.n_ctx     = static_cast<uint32_t>(nCtx);
        h.n_chunks  = static_cast<uint32_t>(nChunks);
        h.n_scored  = nScored;
        h.top_k     = std::min(k_kl_top_k, nVocab);
        h.text_hash = textHash;
        out.write(reinterpret_cast<const char *>(&h), sizeof h);
    }

    std::fprintf(stderr, "%zu tokens, %d chunks of %d, scoring %u tokens per chunk\n", tokens.size(), nChunks, nCtx, nScored);
    double              nllSum = 0.0, nll2Sum = 0.0, baseNllSum = 0.0, klSum = 0.0, klMax = 0.0;
    uint64_t            nTokens = 0, sameTop1 = 0;
    std::vector<int32_t> chunk(nCtx);
    std::vector<int32_t> order(nVocab);
    std::vector<KlEntry> entries;
    Stopwatch            clock;
    for (int c = 0; c < nChunks; ++c) {
        std::copy_n(tokens.begin() + static_cast<ptrdiff_t>(c) * nCtx, nCtx, chunk.begin());
        if (tok->add_bos() && tok->bos() >= 0) {
            chunk[0] = tok->bos();
        }
        session.clear();
        v4::prefill_options po;
        po.all_logits = true;
        session.prefill(chunk, interruptFlag(), po);
        const std::span<const float> all = session.all_logits();

        for (int i = first; i < nCtx - 1; ++i) {
            const std::span<const float> row    = all.subspan(static_cast<size_t>(i) * nVocab, nVocab);
            const int32_t                target = chunk[i + 1];
            const double                 lse    = logSumExp(row);
            const double                 nll    = lse - row[target];
            nllSum += nll;
            nll2Sum += nll * nll;
            ++nTokens;

            if (out.is_open()) {
                const uint32_t k = std::min(k_kl_top_k, nVocab);
                std::iota(order.begin(), order.end(), 0);
                std::partial_sort(order.begin(), order.begin() + k, order.end(),
                                  [&](int32_t a, int32_t b) { return row[a] != row[b] ? row[a] > row[b] : a < b; });
                const float head[2] = {static_cast<float>(lse), row[target]};
                out.write(reinterpret_cast<const char *>(head), sizeof head);
                for (uint32_t j = 0; j < k; ++j) {
                    const KlEntry e {order[j], row[order[j]]};
                    out.write(reinterpret_cast<const char *>(&e), sizeof e);
                }
            }
            if (base.is_open()) {
                float head[2];
                entries.resize(baseHeader.top_k);
                if (!base.read(reinterpret_cast<char *>(head), sizeof head) ||
                    !base.read(reinterpret_cast<char *>(entries.data()), sizeof(KlEntry) * entries.size())) {
                    throw FileError(basePath, v4::Error(v4::ErrorCode::format, "truncated"));
                }
                baseNllSum += static_cast<double>(head[0]) - head[1];
                // KL(base || this) over the base's top-k plus one bucket for the rest of the mass:
                // a lower bound of the full KL that is tight when the top-k hold nearly all of it.
                double kl = 0.0, pTop = 0.0, qTop = 0.0;
                for (const KlEntry & e : entries) {
                    if (e.id < 0 || static_cast<uint32_t>(e.id) >= nVocab) {
                        throw FileError(basePath, v4::Error(v4::ErrorCode::format, "token id out of range"));
                    }
                    const double logP = static_cast<double>(e.logit) - head[0];
                    const double logQ = static_cast<double>(row[e.id]) - lse;
                    const double p    = std::exp(logP);
                    kl += p * (logP - logQ);
                    pTop += p;
                    qTop += std::exp(logQ);
                }
                const double pRest = 1.0 - pTop, qRest = std::max(1.0 - qTop, 1e-30);
                if (pRest > 1e-9) {
                    kl += pRest * std::log(pRest / qRest);
                }
                kl = std::max(kl, 0.0);
                klSum += kl;
                klMax = std::max(klMax, kl);
                const int32_t top1 = static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
                sameTop1 += top1 == entries.front().id ? 1 : 0;
            }
        }
        std::fprintf(stderr, "[%d/%d] ppl %.4f  (%.1f s)\n", c + 1, nChunks, std::exp(nllSum / nTokens), clock.seconds());
    }

    const double mean   = nllSum / nTokens;
    const double var    = std::max(0.0, nll2Sum / nTokens - mean * mean);
    const double ppl    = std::exp(mean);
    const double pplErr = ppl * std::sqrt(var / std::max<uint64_t>(1, nTokens - 1));
    std::printf("PPL = %.4f +/- %.4f (%llu tokens, %d chunks of %d)\n", ppl, pplErr,
                static_cast<unsigned long long>(nTokens), nChunks, nCtx);
    if (out.is_open()) {
        out.flush();
        if (!out) {
            throw FileError(outPath, v4::Error(v4::ErrorCode::io, "write failed"));
        }
        std::printf("saved top-%u log-probs of %llu tokens to %s\n", std::min(k_kl_top_k, nVocab),
                    static_cast<unsigned long long>(nTokens), outPath.c_str());
    }
    if (base.is_open()) {
        std::printf("base PPL = %.4f\n", std::exp(baseNllSum / nTokens));
        std::printf("mean KL = %.6f, max KL = %.6f (nats, base || this)\n", klSum / nTokens, klMax);
        std::printf("same top-1 = %.2f %%\n", 100.0 * sameTop1 / nTokens);
    }
    return k_exit_ok;
}

} // namespace v4cli
