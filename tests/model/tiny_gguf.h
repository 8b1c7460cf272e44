// Writes small synthetic GGUF v3 files for the loader's error tests: a 1-layer llama with f32
// random weights, which tests can break one piece at a time (drop a tensor, change a shape, rename
// the architecture).
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace v4test {

struct tiny_tensor {
    std::string          name;
    std::vector<int64_t> shape; // ne0 first
};

struct tiny_model_spec {
    std::string              arch = "llama";
    uint32_t                 n_embd = 64, n_layer = 1, n_head = 4, n_head_kv = 2, n_ff = 96, n_vocab = 48;
    std::vector<tiny_tensor> tensors;

    tiny_model_spec() {
        const int64_t E = n_embd, F = n_ff, V = n_vocab, KV = n_embd / n_head * n_head_kv;
        tensors = {{"token_embd.weight", {E, V}}, {"output_norm.weight", {E}}, {"output.weight", {E, V}}};
        for (uint32_t l = 0; l < n_layer; ++l) {
            const std::string b = "blk." + std::to_string(l) + ".";
            tensors.push_back({b + "attn_norm.weight", {E}});
            tensors.push_back({b + "attn_q.weight", {E, E}});
            tensors.push_back({b + "attn_k.weight", {E, KV}});
            tensors.push_back({b + "attn_v.weight", {E, KV}});
            tensors.push_back({b + "attn_output.weight", {E, E}});
            tensors.push_back({b + "ffn_norm.weight", {E}});
            tensors.push_back({b + "ffn_gate.weight", {E, F}});
            tensors.push_back({b + "ffn_up.weight", {E, F}});
            tensors.push_back({b + "ffn_down.weight", {F, E}});
        }
    }

    void erase(const std::string & name) {
        std::erase_if(tensors, [&](const tiny_tensor & t) { return t.name == name; });
    }
    void reshape(const std::string & name, std::vector<int64_t> shape) {
        for (tiny_tensor & t : tensors) {
            if (t.name == name) {
                t.shape = std::move(shape);
            }
        }
    }

    void write(const std::string & path) const {
        std::vector<uint8_t> out;
        auto raw = [&](const void * p, size_t n) {
            out.insert(out.end(), static_cast<const uint8_t *>(p), static_cast<const uint8_t *>(p) + n);
        };
        auto u32 = [&](uint32_t v) { raw(&v, 4); };
        auto u64 = [&](uint64_t v) { raw(&v, 8); };
        auto str = [&](const std::string & s) { u64(s.size()); raw(s.data(), s.size()); };
        auto kv_u32 = [&](const std::string & k, uint32_t v) { str(k); u32(4); u32(v); };
        auto kv_f32 = [&](const std::string & k, float v) { str(k); u32(6); raw(&v, 4); };
        auto kv_str = [&](const std::string & k, const std::string & v) { str(k); u32(8); str(v); };

        raw("GGUF", 4);
        u32(3);
        u64(tensors.size());
        u64(9);
        kv_str("general.architecture", arch);
        kv_u32(arch + ".context_length", 256);
        kv_u32(arch + ".embedding_length", n_embd);
        kv_u32(arch + ".block_count", n_layer);
        kv_u32(arch + ".feed_forward_length", n_ff);
        kv_u32(arch + ".attention.head_count", n_head);
        kv_u32(arch + ".attention.head_count_kv", n_head_kv);
        kv_f32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f);
        kv_f32(arch + ".rope.freq_base", 10000.0f);
        uint64_t offset = 0;
        for (const tiny_tensor & t : tensors) {
            str(t.name);
            u32(static_cast<uint32_t>(t.shape.size()));
            uint64_t n = 1;
            for (int64_t d : t.shape) {
                u64(static_cast<uint64_t>(d));
                n *= static_cast<uint64_t>(d);
            }
            u32(0); // f32
            u64(offset);
            offset += (n * 4 + 31) / 32 * 32;
        }
        while (out.size() % 32 != 0) {
            out.push_back(0);
        }
        std::mt19937                          rng(42);
        std::uniform_real_distribution<float> uf(-0.2f, 0.2f);
        for (const tiny_tensor & t : tensors) {
            uint64_t n = 1;
            for (int64_t d : t.shape) {
                n *= static_cast<uint64_t>(d);
            }
            const bool is_norm = t.name.find("norm") != std::string::npos;
            for (uint64_t i = 0; i < n; ++i) {
                const float v = is_norm ? 1.0f + uf(rng) : uf(rng);
                raw(&v, 4);
            }
            while (out.size() % 32 != 0) {
                out.push_back(0);
            }
        }
        std::ofstream f(path, std::ios::binary);
        f.write(reinterpret_cast<const char *>(out.data()), static_cast<std::streamsize>(out.size()));
    }
};

} // namespace v4test
