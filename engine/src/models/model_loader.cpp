// v4::model::load: open and validate the GGUF file, pick the architecture family, read its
// hparams and tensors (every shape checked, with messages that name the tensor), and summarise
// the model in model_info.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "cpu/x16.h"
#include "models/model_impl.h"
#include "v4/error.h"
#include "v4/log.h"

namespace v4 {
namespace detail {

std::string tensor_name(const char * pattern, int il) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), pattern, il);
    return buf;
}

std::string arch_key(std::string_view arch_name, const char * suffix) {
    return std::string(arch_name) + "." + suffix;
}

namespace {

std::string shape_string(std::span<const int64_t> shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        s += (i ? ", " : "") + std::to_string(shape[i]);
    }
    return s + "]";
}

float half_bits_to_float(uint16_t h) {
    const uint32_t sign = (h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1f;
    const uint32_t mant = h & 0x3ff;
    float          f;
    if (exp == 0) {
        f = std::ldexp(static_cast<float>(mant), -24);
    } else if (exp == 31) {
        f = mant ? NAN : INFINITY;
    } else {
        f = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
    }
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    bits |= sign;
    std::memcpy(&f, &bits, 4);
    return f;
}

// 64-bit FNV-1a, for the model fingerprint.
struct fnv1a {
    uint64_t h = 0xcbf29ce484222325ull;
    void     add(const void * p, size_t n) {
        const auto * b = static_cast<const uint8_t *>(p);
        for (size_t i = 0; i < n; ++i) {
            h = (h ^ b[i]) * 0x100000001b3ull;
        }
    }
    void add(std::string_view s) { add(s.data(), s.size()); }
};

const std::string & arch_string(const model_impl & m) { return m.info.architecture; }

} // namespace

uint32_t get_arch_u32(const model_impl & m, const char * suffix) {
    return m.file.get_u32(arch_key(arch_string(m), suffix));
}

uint32_t get_arch_u32_or(const model_impl & m, const char * suffix, uint32_t fallback) {
    return m.file.get_u32_opt(arch_key(arch_string(m), suffix)).value_or(fallback);
}

float get_arch_f32_or(const model_impl & m, const char * suffix, float fallback) {
    return m.file.get_f32_opt(arch_key(arch_string(m), suffix)).value_or(fallback);
}

void load_common_hparams(model_impl & m) {
    hparams & hp = m.hp;
    hp.n_ctx_train = get_arch_u32(m, key::context_length);
    hp.n_embd = get_arch_u32(m, key::embedding_length);
    hp.n_layer = get_arch_u32(m, key::block_count);
    hp.n_ff = get_arch_u32(m, key::feed_forward_length);
    hp.n_head = get_arch_u32(m, key::head_count);
    hp.n_head_kv = get_arch_u32_or(m, key::head_count_kv, hp.n_head);
    if (hp.n_head == 0 || hp.n_head_kv == 0 || hp.n_head % hp.n_head_kv != 0) {
        throw Error(ErrorCode::format, "head_count " + std::to_string(hp.n_head) + " is not a multiple of head_count_kv " +
                                           std::to_string(hp.n_head_kv));
    }
    hp.head_dim = get_arch_u32_or(m, key::key_length, hp.n_embd / hp.n_head);
    const uint32_t v_len = get_arch_u32_or(m, key::value_length, hp.head_dim);
    if (v_len != hp.head_dim) {
        throw Error(ErrorCode::unsupported, "attention.value_length " + std::to_string(v_len) +
                                                " differs from key_length " + std::to_string(hp.head_dim));
    }
    hp.n_rot = get_arch_u32_or(m, key::rope_dimension_count, hp.head_dim);
    if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
        throw Error(ErrorCode::format, "rope.dimension_count " + std::to_string(hp.n_rot) + " is invalid for head_dim " +
                                           std::to_string(hp.head_dim));
    }
    hp.rms_eps = get_arch_f32_or(m, key::rms_eps, 1e-5f);
    hp.rope_base = get_arch_f32_or(m, key::rope_freq_base, 10000.0f);
    const auto scaling = m.file.get_string_opt(arch_key(arch_string(m), key::rope_scaling_type));
    if (scaling && *scaling == "linear") {
        const float factor = get_arch_f32_or(m, key::rope_scaling_factor, 1.0f);
        hp.rope_scale = factor > 0.0f ? 1.0f / factor : 1.0f;
    } else if (scaling && *scaling != "none") {
        throw Error(ErrorCode::unsupported, "rope scaling type '" + *scaling + "' is not supported");
    }
    // The vocabulary size: the key when present, else the embedding's row count.
    const gguf::tensor_info * embd = m.file.find_tensor(tensor::token_embd);
    if (embd == nullptr) {
        throw Error(ErrorCode::format, std::string("missing tensor '") + tensor::token_embd + "'");
    }
    if (embd->shape.size() != 2) {
        throw Error(ErrorCode::format, std::string("tensor '") + tensor::token_embd + "': expected 2 dimensions, got " +
                                           shape_string(embd->shape));
    }
    hp.n_vocab = get_arch_u32_or(m, key::vocab_size, static_cast<uint32_t>(embd->shape[1]));
    if (hp.n_embd == 0 || hp.n_layer == 0 || hp.head_dim == 0 || hp.n_ff == 0 || hp.n_vocab == 0) {
        throw Error(ErrorCode::format, "model has a zero dimension (embedding_length, block_count, head dim, "
                                       "feed_forward_length or vocabulary)");
    }
}

static const gguf::tensor_info * find_checked(const model_impl & m, const std::string & name,
                                              std::initializer_list<int64_t> expected, bool required) {
    const gguf::tensor_info * t = m.file.find_tensor(name);
    if (t == nullptr) {
        if (required) {
            throw Error(ErrorCode::format, "missing tensor '" + name + "' (expected shape " +
                                               shape_string(std::vector<int64_t>(expected)) + ")");
        }
        return nullptr;
    }
    std::vector<int64_t> want(expected);
    std::vector<int64_t> got = t->shape;
    while (got.size() > want.size() && got.back() == 1) {
        got.pop_back();
    }
    if (got != want) {
        throw Error(ErrorCode::format, "tensor '" + name + "': expected shape " + shape_string(want) + ", got " +
                                           shape_string(t->shape));
    }
    if (!traits(t->type).supported) {
        throw Error(ErrorCode::unsupported,
                    "tensor '" + name + "' has type " + traits(t->type).name + ", which is not supported");
    }
    return t;
}

static weight make_weight(const gguf::tensor_info & t, int64_t n_in, int64_t n_out) {
    weight w;
    w.type = t.type;
    w.n_in = n_in;
    w.n_out = n_out;
    w.row_bytes = row_bytes(t.type, n_in).value_or(0);
    w.data = t.data;
    if (w.row_bytes == 0 || w.row_bytes * static_cast<size_t>(n_out) > t.n_bytes) {
        throw Error(ErrorCode::format, "tensor '" + t.name + "': rows of " + std::to_string(n_in) + " elements of " +
                                           traits(t.type).name + " do not fit its data");
    }
    return w;
}

weight get_matrix(const model_impl & m, const std::string & name, int64_t n_in, int64_t n_out) {
    return make_weight(*find_checked(m, name, {n_in, n_out}, true), n_in, n_out);
}

weight get_matrix_opt(const model_impl & m, const std::string & name, int64_t n_in, int64_t n_out) {
    const gguf::tensor_info * t = find_checked(m, name, {n_in, n_out}, false);
    return t ? make_weight(*t, n_in, n_out) : weight{};
}

std::vector<float> get_vector_opt(const model_impl & m, const std::string & name, int64_t n) {
    const gguf::tensor_info * t = find_checked(m, name, {n}, false);
    if (t == nullptr) {
        return {};
    }
    std::vector<float> out(static_cast<size_t>(n));
    switch (t->type) {
        case dtype::f32:
            std::memcpy(out.data(), t->data, out.size() * sizeof(float));
            break;
        case dtype::f16:
            for (size_t i = 0; i < out.size(); ++i) {
                uint16_t h;
                std::memcpy(&h, t->data + 2 * i, 2);
                out[i] = half_bits_to_float(h);
            }
            break;
        case dtype::bf16:
            for (size_t i = 0; i < out.size(); ++i) {
                uint16_t h;
                std::memcpy(&h, t->data + 2 * i, 2);
                const uint32_t bits = static_cast<uint32_t>(h) << 16;
                std::memcpy(&out[i], &bits, 4);
            }
            break;
        default:
            throw Error(ErrorCode::unsupported, "tensor '" + name + "' is a vector of type " + traits(t->type).name +
                                                    "; expected f32, f16 or bf16");
    }
    return out;
}

std::vector<float> get_vector(const model_impl & m, const std::string & name, int64_t n) {
    find_checked(m, name, {n}, true);
    return get_vector_opt(m, name, n);
}

void load_common_tensors(model_impl & m) {
    const hparams & hp = m.hp;
    const int64_t   n_embd = hp.n_embd;
    m.tok_embd = get_matrix(m, tensor::token_embd, n_embd, hp.n_vocab);
    m.output_norm = get_vector(m, tensor::output_norm, n_embd);
    m.output = get_matrix_opt(m, tensor::output, n_embd, hp.n_vocab);
    if (!m.output) {
        m.output = m.tok_embd; // tied embeddings
    }
    m.layers.resize(hp.n_layer);
    for (uint32_t i = 0; i < hp.n_layer; ++i) {
        const int il = static_cast<int>(i);
        layer &   L = m.layers[i];
        L.attn_norm = get_vector(m, tensor_name(tensor::attn_norm, il), n_embd);
        L.wq = get_matrix(m, tensor_name(tensor::attn_q, il), n_embd, hp.q_dim());
        L.wk = get_matrix(m, tensor_name(tensor::attn_k, il), n_embd, hp.kv_dim());
        L.wv = get_matrix(m, tensor_name(tensor::attn_v, il), n_embd, hp.kv_dim());
        L.wo = get_matrix(m, tensor_name(tensor::attn_output, il), hp.q_dim(), n_embd);
        L.ffn_norm = get_vector(m, tensor_name(tensor::ffn_norm, il), n_embd);
        L.ffn_gate = get_matrix(m, tensor_name(tensor::ffn_gate, il), n_embd, hp.n_ff);
        L.ffn_up = get_matrix(m, tensor_name(tensor::ffn_up, il), n_embd, hp.n_ff);
        L.ffn_down = get_matrix(m, tensor_name(tensor::ffn_down, il), hp.n_ff, n_embd);
    }
}

float * scratch_arena::take(size_t n) {
    n = (n + 15) & ~size_t(15); // keep every buffer 64-byte aligned relative to the base
    if (m_used + n > m_storage.size()) {
        throw Error(ErrorCode::internal, "forward scratch exhausted: need " + std::to_string(m_used + n) +
                                             " floats, have " + std::to_string(m_storage.size()));
    }
    float * p = m_storage.data() + m_used;
    m_used += n;
    return p;
}

size_t scratch_floats(const hparams & hp, int n_tokens) {
    const size_t T = static_cast<size_t>(n_tokens);
    const size_t widest = std::max<size_t>({hp.n_embd, hp.q_dim(), hp.n_ff});
    // x, cur, q, k, v, attn, o, gate, up, down, plus padding per buffer
    return T * (3 * hp.n_embd + 3 * hp.q_dim() + 2 * hp.kv_dim() + 2 * hp.n_ff + widest) + 16 * 16;
}

} // namespace detail

using namespace detail;

namespace {

model_info summarise(const model_impl & m, const std::string & path) {
    model_info info = m.info;
    const hparams & hp = m.hp;
    info.path = path;
    info.name = m.file.get_string_opt(key::name).value_or(std::filesystem::path(path).filename().string());
    info.n_layers = hp.n_layer;
    info.n_embd = hp.n_embd;
    info.n_head = hp.n_head;
    info.n_head_kv = hp.n_head_kv;
    info.head_dim = hp.head_dim;
    info.n_ff = hp.n_ff;
    info.n_vocab = hp.n_vocab;
    info.n_ctx_train = hp.n_ctx_train;
    info.file_size = m.file.file_size();
    fnv1a h;
    h.add(info.architecture);
    for (uint32_t v : {hp.n_vocab, hp.n_embd, hp.n_layer, hp.n_head, hp.n_head_kv, hp.head_dim, hp.n_ff}) {
        h.add(&v, sizeof(v));
    }
    for (const gguf::tensor_info & t : m.file.tensors()) {
        info.n_params += static_cast<uint64_t>(t.n_elements());
        info.weight_bytes += t.n_bytes;
        info.tensor_types[traits(t.type).name] += 1;
        h.add(t.name);
        h.add(&t.type, sizeof(t.type));
        h.add(t.shape.data(), t.shape.size() * sizeof(int64_t));
        h.add(t.data, std::min<size_t>(t.n_bytes, 64));
        if (t.n_bytes > 64) {
            h.add(t.data + t.n_bytes - 64, 64);
        }
    }
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016" PRIx64, h.h);
    info.fingerprint = hex;
    return info;
}

} // namespace

model::model(std::unique_ptr<detail::model_impl> impl) : m_impl(std::move(impl)) {}
model::~model() = default;

const model_info & model::info() const { return m_impl->info; }

kv_footprint model::kv_bytes(uint64_t n_ctx) const {
    if (m_impl->custom) {
        return m_impl->custom->kv_bytes(n_ctx);
    }
    const hparams & hp = m_impl->hp;  // the session's cache at the default precision: f16 K and V rows
    kv_footprint f;
    f.bytes_per_token = 2.0 * hp.n_layer * hp.kv_dim() * kv_cache_elem_bytes(kv_cache_type(false));
    f.total_bytes = static_cast<uint64_t>(f.bytes_per_token) * n_ctx;
    f.layout = "f16 K and V (f32 with accurate precision), " + std::to_string(hp.n_layer) + " layers x " + std::to_string(hp.kv_dim());
    return f;
}

// Rearranges the rows of every matrix the CPU kernels have an x16 layout for (Q4_0, Q5_0, Q8_0) in the
// resident copy: those kernels take ~2x fewer instructions per weight, and decode was bound by
// instructions, not bytes (kernels/cpu/x16.h). A matrix used twice (tied embeddings) is repacked
// once. Returns how many matrices were repacked.
static uint32_t repack_for_cpu(model_impl & m) {
    std::vector<weight *> all{&m.tok_embd, &m.output};
    for (layer & L : m.layers) {
        for (weight * w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down}) {
            all.push_back(w);
        }
    }
    namespace kc = v4::kernels::cpu;
    std::vector<const uint8_t *> done;
    std::vector<uint8_t>         row;
    for (weight * w : all) {
        const auto type = static_cast<uint32_t>(w->type);
        if (!*w || kc::find_dot_kernel_x16(type) == nullptr) {
            continue;
        }
        if (std::find(done.begin(), done.end(), w->data) == done.end()) {
            uint8_t * dst = m.file.writable(w->data);
            if (dst == nullptr) {
                continue;
            }
            row.resize(w->row_bytes);
            for (int64_t o = 0; o < w->n_out; ++o) {
                uint8_t * r = dst + static_cast<size_t>(o) * w->row_bytes;
                kc::repack_row_x16(type, r, row.data(), w->n_in);
                std::memcpy(r, row.data(), w->row_bytes);
            }
            done.push_back(w->data);
        }
        w->x16 = true;
    }
    return static_cast<uint32_t>(done.size());
}

std::shared_ptr<const model> model::load(const std::string & path, const load_params & params) {
    auto report = [&](float f) {
        if (params.progress && !params.progress(f)) {
            throw Error(ErrorCode::cancelled, "model loading cancelled");
        }
    };
    report(0.0f);
    auto impl = std::make_unique<model_impl>(gguf::file::open(path));
    model_impl & m = *impl;
    m.info.architecture = m.file.get_string(key::architecture);
    // deepseek4 (llama.cpp's name; deepseek_v4 as transformers calls it) keeps its own state.
    const bool deepseek4 = m.info.architecture == "deepseek4" || m.info.architecture == "deepseek_v4";
    bool known = deepseek4;
    for (const arch_name & a : k_arch_names) {
        if (m.info.architecture == a.name) {
            m.family = a.id;
            known = true;
        }
    }
    if (!known) {
        throw Error(ErrorCode::unsupported, "unsupported architecture '" + m.info.architecture +
                                                "' (supported: " + k_supported_archs + ")");
    }
    report(0.1f);
    // The resident copy reads every page once, which is also what the touch loop below is for.
    const bool resident = params.resident_weights && m.file.make_resident([&](float f) {
        return !params.progress || params.progress(0.1f + 0.8f * f);
    });
    if (deepseek4) {
        load_deepseek4(m);
    } else switch (m.family) {
        case arch::llama: load_llama(m); break;
        case arch::qwen2: load_qwen2(m); break;
        case arch::qwen3: load_qwen3(m); break;
        case arch::gemma3: load_gemma3(m); break;
    }
    // Touch every weight page once (with progress), so the first prompt does not pay the page faults.
    const auto & tensors = m.file.tensors();
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < tensors.size() && !resident; ++i) {
        const gguf::tensor_info & t = tensors[i];
        for (size_t off = 0; off < t.n_bytes; off += 4096) {
            sink = sink + t.data[off];
        }
        if (i % 16 == 0) {
            report(0.1f + 0.9f * static_cast<float>(i) / static_cast<float>(tensors.size()));
        }
    }
    m.info = summarise(m, path); // before repacking: the fingerprint hashes the file's bytes
    m.info.weights_resident = resident;
    if (resident) {
        m.info.x16_matrices = deepseek4 ? 0 : repack_for_cpu(m); // V4's own forward reads GGUF blocks
        m.file.seal();
    }
    report(1.0f);
    log().info("loaded {} ({}, {} layers, n_embd {}, {:.1f} MiB of weights)", m.info.name, m.info.architecture,
               m.hp.n_layer, m.hp.n_embd, static_cast<double>(m.info.weight_bytes) / (1024.0 * 1024.0));
    return std::shared_ptr<const model>(new model(std::move(impl)));
}

} // namespace v4
