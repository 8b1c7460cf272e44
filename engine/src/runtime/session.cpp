// v4::session: KV cache, prefix reuse, ubatching, logits, state snapshots.
#include "v4/session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "backend/cuda/cuda_runner.h"
#include "models/model_impl.h"
#include "v4/error.h"

namespace v4 {

namespace detail {

struct session_impl {
    std::shared_ptr<const model> owner;
    const model_impl &           m;
    session_params               params;
    std::unique_ptr<backend>     be;
    dtype                        kv_type;    // f16, or f32 with accurate precision (kv_cache_type)
    std::vector<uint8_t>         k_cache;    // [n_layer][n_ctx][kv_dim] of kv_type
    std::vector<uint8_t>         v_cache;    // [n_layer][n_ctx][kv_dim] of kv_type
    std::vector<int32_t>         tokens;     // what the cache holds, position i = tokens[i]
    std::vector<float>           logits;     // [n_vocab] of the last evaluated position
    std::vector<float>           all_logits; // [n_evaluated][n_vocab] of the last prefill with all_logits
    std::vector<float>           scratch;
    std::unique_ptr<arch_state>  arch;       // families with their own per-sequence state (deepseek4)
    std::unique_ptr<device_runner> gpu;     // set when the forward runs on CUDA (the host K/V then
                                            // exists only while save_state/load_state stage it)
    bool                         logits_on_device = false; // gpu: logits is stale, the runner holds them
    bool                         device_can_sample = false; // gpu: the runner's logits are logits()'s
    std::string                  device_note;

    session_impl(std::shared_ptr<const model> mdl, const session_params & p)
        : owner(std::move(mdl)), m(owner->impl()), params(p) {
        if (params.n_ctx == 0) {
            params.n_ctx = m.hp.n_ctx_train;
        }
        if (params.n_threads <= 0) {
            params.n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        }
        params.n_batch = std::max<uint32_t>(1, std::min(params.n_batch, params.n_ctx));
        if (!m.custom) { // families with their own forward (deepseek4) run on their state's threads
            be = make_cpu_backend(params.n_threads, params.precision == activation_precision::accurate);
        }
        kv_type = kv_cache_type(params.precision == activation_precision::accurate);
        logits.assign(m.hp.n_vocab, 0.0f);
        scratch.resize(scratch_floats(m.hp, static_cast<int>(params.n_batch)));
        choose_device();
        if (!gpu) {
            allocate_host_kv();
        }
        if (m.custom) {
            arch = m.custom->new_state(params.n_threads);
        }
    }

    // Evaluates tokens[from..] (already validated) and appends them to the cache.
    void evaluate(std::span<const int32_t> toks, size_t from, const std::atomic<bool> * cancel, bool keep_all) {
        const size_t n_vocab = m.hp.n_vocab;
        if (keep_all) {
            all_logits.resize((toks.size() - from) * n_vocab);
        }
        for (size_t i = from; i < toks.size(); i += params.n_batch) {
            if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
                throw Error(ErrorCode::cancelled, "evaluation cancelled");
            }
            const size_t n = std::min<size_t>(params.n_batch, toks.size() - i);
            forward_args a;
            a.tokens = toks.subspan(i, n);
            a.pos0 = static_cast<int>(tokens.size());
            a.k_cache = k_cache.data();
            a.v_cache = v_cache.data();
            a.kv_type = kv_type;
            a.n_ctx = static_cast<int>(params.n_ctx);
            a.all_logits = keep_all;
            a.logits = keep_all ? all_logits.data() + (i - from) * n_vocab : logits.data();
            a.cancel = cancel;
            a.be = be.get();
            a.scratch = &scratch;
            a.state = arch.get();
            // Non-final ubatches also produce their last row's logits (one row: cheap next to the layers).
            if (gpu) {
                // Without all_logits the last row stays on the device: sample() draws there, and
                // logits() copies it only when someone asks.
                logits_on_device = device_can_sample = false;
                gpu->forward(a.tokens, a.pos0, keep_all, keep_all ? a.logits : nullptr, cancel);
                logits_on_device = !keep_all;
                device_can_sample = true;
            } else {
                m.forward(m, a);
            }
            tokens.insert(tokens.end(), a.tokens.begin(), a.tokens.end());
        }
        if (keep_all) {
            std::memcpy(logits.data(), all_logits.data() + all_logits.size() - n_vocab, n_vocab * sizeof(float));
        }
    }

    void choose_device() {
        if (params.device == compute_device::cpu) {
            device_note = "cpu";
            return;
        }
        try {
            gpu = make_cuda_runner(owner, params.n_ctx, params.n_batch, params.precision == activation_precision::fast);
            device_note = "cuda: " + gpu->describe();
        } catch (const Error & e) {
            if (params.device == compute_device::cuda) throw;
            device_note = std::string("cpu (auto: ") + e.what() + ")";
        }
    }

    // The logits of a CUDA session stay on the device until asked for; fetching them changes
    // nothing a caller can observe, hence const.
    void fetch_logits() const {
        if (logits_on_device) {
            auto & self = const_cast<session_impl &>(*this);
            gpu->read_logits(self.logits.data());
            self.logits_on_device = false;
        }
    }

    void allocate_host_kv() {
        const size_t cache = static_cast<size_t>(m.hp.n_layer) * params.n_ctx * kv_row_bytes();
        k_cache.assign(cache, 0);
        v_cache.assign(cache, 0);
    }
    // A CUDA session's host K/V is only snapshot staging: freed once the snapshot is done, so a
    // long context does not hold the cache twice (device and host) for the session's lifetime.
    void release_staging_kv() const {
        auto & self = const_cast<session_impl &>(*this);
        std::vector<uint8_t>().swap(self.k_cache);
        std::vector<uint8_t>().swap(self.v_cache);
    }

    // The device holds the cache of a CUDA session; snapshots go through a host copy made for
    // the occasion. Staging that copy changes nothing a caller can observe, hence const.
    void download_kv() const {
        auto & self = const_cast<session_impl &>(*this);
        self.allocate_host_kv();
        for (uint32_t il = 0; il < m.hp.n_layer; ++il) {
            const int n = static_cast<int>(tokens.size());
            if (kv_type == dtype::f16) {
                gpu->read_kv(static_cast<int>(il), n, self.layer_cache<uint16_t>(self.k_cache, il),
                             self.layer_cache<uint16_t>(self.v_cache, il));
            } else {
                gpu->read_kv(static_cast<int>(il), n, self.layer_cache<float>(self.k_cache, il),
                             self.layer_cache<float>(self.v_cache, il));
            }
        }
    }
    void upload_kv(uint32_t n_tokens) {
        for (uint32_t il = 0; il < m.hp.n_layer; ++il) {
            const int n = static_cast<int>(n_tokens);
            if (kv_type == dtype::f16) {
                gpu->write_kv(static_cast<int>(il), n, layer_cache<uint16_t>(k_cache, il), layer_cache<uint16_t>(v_cache, il));
            } else {
                gpu->write_kv(static_cast<int>(il), n, layer_cache<float>(k_cache, il), layer_cache<float>(v_cache, il));
            }
        }
    }
    // Layer il's rows of a K or V cache, as kv_type's element type T.
    template <class T>
    T * layer_cache(std::vector<uint8_t> & cache, uint32_t il) {
        return reinterpret_cast<T *>(cache.data() + static_cast<size_t>(il) * params.n_ctx * kv_row_bytes());
    }
    size_t kv_row_bytes() const { return static_cast<size_t>(m.hp.kv_dim()) * kv_cache_elem_bytes(kv_type); }

    void validate(std::span<const int32_t> toks) const {
        for (size_t i = 0; i < toks.size(); ++i) {
            if (toks[i] < 0 || static_cast<uint32_t>(toks[i]) >= m.hp.n_vocab) {
                throw Error(ErrorCode::invalid_argument, "token " + std::to_string(toks[i]) + " at index " +
                                                             std::to_string(i) + " is outside the vocabulary of " +
                                                             std::to_string(m.hp.n_vocab));
            }
        }
    }
};

} // namespace detail

using detail::session_impl;

session::session(std::shared_ptr<const model> mdl, const session_params & params)
    : m_impl(std::make_unique<session_impl>(std::move(mdl), params)) {}
session::~session() = default;
session::session(session &&) noexcept = default;
session & session::operator=(session &&) noexcept = default;

prefill_stats session::prefill(std::span<const int32_t> toks, const std::atomic<bool> * cancel,
                               const prefill_options & options) {
    session_impl & s = *m_impl;
    const auto     t0 = std::chrono::steady_clock::now();
    if (toks.empty()) {
        throw Error(ErrorCode::invalid_argument, "prefill: empty token list");
    }
    if (toks.size() > s.params.n_ctx) {
        throw Error(ErrorCode::context_overflow, "prompt of " + std::to_string(toks.size()) +
                                                     " tokens does not fit the context of " +
                                                     std::to_string(s.params.n_ctx) + " tokens");
    }
    s.validate(toks);
    size_t common = 0;
    while (common < s.tokens.size() && common < toks.size() && s.tokens[common] == toks[common]) {
        ++common;
    }
    if (common == toks.size()) {
        --common; // re-evaluate the last token so that logits() belongs to it
    }
    s.tokens.resize(common);
    s.evaluate(toks, common, cancel, options.all_logits);
    prefill_stats st;
    st.n_reused = static_cast<uint32_t>(common);
    st.n_evaluated = static_cast<uint32_t>(toks.size() - common);
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return st;
}

std::span<const float> session::decode_one(int32_t token, const std::atomic<bool> * cancel) {
    decode(token, cancel);
    return logits();
}

void session::decode(int32_t token, const std::atomic<bool> * cancel) {
    session_impl & s = *m_impl;
    if (s.tokens.size() + 1 > s.params.n_ctx) {
        throw Error(ErrorCode::context_overflow, "context full: " + std::to_string(s.tokens.size()) + " of " +
                                                     std::to_string(s.params.n_ctx) + " positions used");
    }
    const int32_t one[1] = {token};
    s.validate(one);
    std::vector<int32_t> all = s.tokens;
    all.push_back(token);
    s.evaluate(all, all.size() - 1, cancel, false);
}

int32_t session::sample(sampler & smp) {
    session_impl & s = *m_impl;
    if (s.gpu && s.device_can_sample) {
        if (const std::optional<int32_t> token = s.gpu->sample(smp)) {
            return *token;
        }
    }
    return smp.sample(logits());
}

std::span<const float> session::logits() const {
    m_impl->fetch_logits();
    return m_impl->logits;
}
std::span<const float>       session::all_logits() const { return m_impl->all_logits; }
uint32_t                     session::n_past() const { return static_cast<uint32_t>(m_impl->tokens.size()); }
uint32_t                     session::n_ctx() const { return m_impl->params.n_ctx; }
uint32_t                     session::n_vocab() const { return m_impl->m.hp.n_vocab; }
const std::vector<int32_t> & session::tokens() const { return m_impl->tokens; }
const model &                session::get_model() const { return *m_impl->owner; }
const char *                 session::device() const { return m_impl->gpu ? "cuda" : "cpu"; }
const std::string &          session::device_note() const { return m_impl->device_note; }
double                       session::device_peak_bandwidth() const { return m_impl->gpu ? m_impl->gpu->peak_bandwidth() : 0.0; }

bool parse_compute_device(std::string_view name, compute_device & out) {
    if (name == "cpu") out = compute_device::cpu;
    else if (name == "cuda") out = compute_device::cuda;
    else if (name == "auto") out = compute_device::automatic;
    else return false;
    return true;
}

void session::clear() {
    m_impl->logits_on_device = m_impl->device_can_sample = false;
    m_impl->tokens.clear();
    m_impl->all_logits.clear();
    std::fill(m_impl->logits.begin(), m_impl->logits.end(), 0.0f);
}

// ---- state snapshots -------------------------------------------------------------------------
//
// Layout (little endian, as the host): "V4ST", u32 version, u32 KV element type (dtype: 0 f32,
// 1 f16), u32 fingerprint length + bytes, u32 n_layer, u32 kv_dim, u32 n_vocab, u32 n_tokens,
// i32 tokens[n_tokens], f32 logits[n_vocab], then per layer K rows [n_tokens][kv_dim] and V rows
// [n_tokens][kv_dim] of that type; for a family with its own state (deepseek4), then u64 length +
// that state's bytes (arch_state::save). A snapshot only loads into a session with the same KV type.
// Version 1 (f32 rows, no type field) came from builds before the f16 cache; it and a snapshot of
// the other KV type are rejected as stale, never reinterpreted: the caller evaluates the prompt
// again.

namespace {

constexpr char     k_state_magic[4] = {'V', '4', 'S', 'T'};
constexpr uint32_t k_state_version = 2;
constexpr uint32_t k_state_version_f32 = 1; // f32 K/V rows, from builds before the f16 cache

template <class T>
void put(std::vector<uint8_t> & out, const T * p, size_t n) {
    const auto * b = reinterpret_cast<const uint8_t *>(p);
    out.insert(out.end(), b, b + n * sizeof(T));
}

const char * kv_type_name(uint32_t t) {
    return t == static_cast<uint32_t>(dtype::f32) ? "f32" : t == static_cast<uint32_t>(dtype::f16) ? "f16" : "unknown";
}

struct reader {
    std::span<const uint8_t> bytes;
    size_t                   pos = 0;
    template <class T>
    void get(T * p, size_t n, const char * what) {
        if (n > (bytes.size() - pos) / sizeof(T)) {
            throw Error(ErrorCode::format, std::string("session state truncated while reading ") + what + " (" +
                                               std::to_string(bytes.size()) + " bytes)");
        }
        std::memcpy(p, bytes.data() + pos, n * sizeof(T));
        pos += n * sizeof(T);
    }
    uint32_t u32(const char * what) {
        uint32_t v;
        get(&v, 1, what);
        return v;
    }
};

} // namespace

std::vector<uint8_t> session::save_state() const {
    const session_impl & s = *m_impl;
    if (s.gpu) {
        s.fetch_logits();
        s.download_kv();
    }
    const uint32_t       n_layer = s.m.hp.n_layer, kv_dim = s.m.hp.kv_dim(), n_vocab = s.m.hp.n_vocab;
    const uint32_t       n_tokens = static_cast<uint32_t>(s.tokens.size());
    const std::string &  fp = s.owner->info().fingerprint;
    std::vector<uint8_t> out;
    const size_t         row_bytes = s.kv_row_bytes();
    out.reserve(64 + fp.size() + n_tokens * 4 + n_vocab * 4 + size_t(2) * n_layer * n_tokens * row_bytes);
    put(out, k_state_magic, 4);
    const uint32_t header[] = {k_state_version, static_cast<uint32_t>(s.kv_type), static_cast<uint32_t>(fp.size())};
    put(out, header, 3);
    put(out, fp.data(), fp.size());
    const uint32_t dims[] = {n_layer, kv_dim, n_vocab, n_tokens};
    put(out, dims, 4);
    put(out, s.tokens.data(), n_tokens);
    put(out, s.logits.data(), n_vocab);
    for (uint32_t il = 0; il < n_layer; ++il) {
        const size_t off = static_cast<size_t>(il) * s.params.n_ctx * row_bytes;
        put(out, s.k_cache.data() + off, static_cast<size_t>(n_tokens) * row_bytes);
        put(out, s.v_cache.data() + off, static_cast<size_t>(n_tokens) * row_bytes);
    }
    if (s.arch) {
        const std::vector<uint8_t> arch = s.arch->save();
        const uint64_t             n = arch.size();
        put(out, &n, 1);
        put(out, arch.data(), arch.size());
    }
    if (s.gpu) {
        s.release_staging_kv();
    }
    return out;
}

void session::load_state(std::span<const uint8_t> bytes) {
    session_impl & s = *m_impl;
    reader         r{bytes};
    char           magic[4];
    r.get(magic, 4, "magic");
    if (std::memcmp(magic, k_state_magic, 4) != 0) {
        throw Error(ErrorCode::format, "not a V4 session state (bad magic)");
    }
    const uint32_t version = r.u32("version");
    if (version == k_state_version_f32) {
        throw Error(ErrorCode::format, "session state version 1 comes from a build before the KV type tag (f32 cache "
                                       "rows, untagged): the snapshot is stale and the prompt must be evaluated again");
    }
    if (version != k_state_version) {
        throw Error(ErrorCode::format, "session state version " + std::to_string(version) + " is not supported (expected " +
                                           std::to_string(k_state_version) + ")");
    }
    const uint32_t kv_type = r.u32("KV type");
    if (kv_type != static_cast<uint32_t>(s.kv_type)) {
        throw Error(ErrorCode::format, std::string("session state holds a ") + kv_type_name(kv_type) +
                                           " KV cache, this session keeps " + kv_type_name(static_cast<uint32_t>(s.kv_type)) +
                                           " (the precision setting differs): the snapshot is stale");
    }
    const uint32_t fp_len = r.u32("fingerprint length");
    if (fp_len > 256) {
        throw Error(ErrorCode::format, "session state fingerprint length " + std::to_string(fp_len) + " is invalid");
    }
    std::string fp(fp_len, '\0');
    r.get(fp.data(), fp_len, "fingerprint");
    if (fp != s.owner->info().fingerprint) {
        throw Error(ErrorCode::format, "session state belongs to another model (fingerprint " + fp + ", this model " +
                                           s.owner->info().fingerprint + ")");
    }
    const uint32_t n_layer = r.u32("n_layer"), kv_dim = r.u32("kv_dim"), n_vocab = r.u32("n_vocab");
    const uint32_t n_tokens = r.u32("n_tokens");
    if (n_layer != s.m.hp.n_layer || kv_dim != s.m.hp.kv_dim() || n_vocab != s.m.hp.n_vocab) {
        throw Error(ErrorCode::format, "session state sizes (layers " + std::to_string(n_layer) + ", kv_dim " +
                                           std::to_string(kv_dim) + ", vocab " + std::to_string(n_vocab) +
                                           ") do not match the model");
    }
    if (n_tokens > s.params.n_ctx) {
        throw Error(ErrorCode::context_overflow, "session state holds " + std::to_string(n_tokens) +
                                                     " tokens, more than the context of " +
                                                     std::to_string(s.params.n_ctx));
    }
    const size_t row_bytes = s.kv_row_bytes();
    const size_t expected = r.pos + size_t(n_tokens) * 4 + size_t(n_vocab) * 4 + size_t(2) * n_layer * n_tokens * row_bytes;
    if (s.arch) { // the family's own state follows the KV rows; loaded first, so a bad one changes nothing
        uint64_t arch_size = 0;
        if (bytes.size() >= expected + sizeof arch_size) {
            std::memcpy(&arch_size, bytes.data() + expected, sizeof arch_size);
        }
        if (bytes.size() < expected + sizeof arch_size || arch_size != bytes.size() - expected - sizeof arch_size) {
            throw Error(ErrorCode::format, "session state is " + std::to_string(bytes.size()) + " bytes, expected " +
                                               std::to_string(expected) + " plus the model's own state");
        }
        s.arch->load(bytes.subspan(expected + sizeof arch_size));
    } else if (bytes.size() != expected) {
        throw Error(ErrorCode::format, "session state is " + std::to_string(bytes.size()) + " bytes, expected " +
                                           std::to_string(expected));
    }
    std::vector<int32_t> toks(n_tokens);
    r.get(toks.data(), n_tokens, "tokens");
    s.validate(toks);
    if (s.gpu) {
        s.allocate_host_kv();
    }
    r.get(s.logits.data(), n_vocab, "logits");
    s.logits_on_device = s.device_can_sample = false; // the snapshot's logits, not the device's
    for (uint32_t il = 0; il < n_layer; ++il) {
        const size_t off = static_cast<size_t>(il) * s.params.n_ctx * row_bytes;
        r.get(s.k_cache.data() + off, static_cast<size_t>(n_tokens) * row_bytes, "K cache");
        r.get(s.v_cache.data() + off, static_cast<size_t>(n_tokens) * row_bytes, "V cache");
    }
    if (s.gpu) {
        s.upload_kv(n_tokens);
        s.release_staging_kv();
    }
    s.tokens = std::move(toks);
    s.all_logits.clear();
}

} // namespace v4
