// v4::model: the read-only weights of one GGUF file (in huge-page memory, or memory-mapped when
// large), shared by any number of sessions (see session.h). Supported architectures: llama (Llama
// 2/3), qwen2, qwen3, gemma3, deepseek4.
//
//   v4::load_params lp;
//   lp.progress = [](float f) { return !g_quit; };          // false cancels (ErrorCode::cancelled)
//   std::shared_ptr<const v4::model> m = v4::model::load("gemma-3-270m-q4_k_m.gguf", lp);
//   const v4::model_info & info = m->info();              // architecture, sizes, tensor types
//
// load() throws v4::Error: io (cannot open/map), format (malformed file, missing tensor, wrong
// shape: the message names the tensor and the expected and actual shapes), unsupported (unknown
// architecture or tensor type), cancelled. A loaded model is immutable and safe to share between
// threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace v4 {

struct load_params {
    int                        threads = 0;  // reserved (loading is single-threaded: one copy or one touch per page)
    std::function<bool(float)> progress;     // called with 0..1; return false to cancel
    // Copy the weights into huge-page memory when the file fits in half of the available memory
    // (decode reads them ~20% faster than through the file mapping's 4 KiB pages); false keeps
    // them memory-mapped, which costs no private memory (e.g. when a GPU backend holds a copy).
    bool                       resident_weights = true;
};

struct model_info {
    std::string architecture;   // "llama", "qwen2", "qwen3", "gemma3"
    std::string name;           // general.name, or the file name
    std::string path;
    uint64_t    n_params = 0;   // elements of all weight tensors
    uint32_t    n_layers = 0;
    uint32_t    n_embd = 0;
    uint32_t    n_head = 0;
    uint32_t    n_head_kv = 0;
    uint32_t    head_dim = 0;
    uint32_t    n_ff = 0;
    uint32_t    n_vocab = 0;
    uint32_t    n_ctx_train = 0;
    std::map<std::string, uint32_t> tensor_types;  // dtype name -> number of tensors
    uint64_t    file_size = 0;
    uint64_t    weight_bytes = 0;                  // bytes of all tensor data
    std::string fingerprint;                       // hex; changes when the weights or hparams change
    uint64_t    n_params_active = 0;               // parameters one token uses (MoE: top-k experts); 0: all
    bool        weights_resident = false;          // in huge-page memory (load_params::resident_weights)
    uint32_t    x16_matrices = 0;                  // matrices whose rows were repacked for the CPU kernels
    std::vector<std::string> details;              // architecture-specific lines for `v4 inspect` (deepseek4:
                                                   // layer schedule, experts, indexer)
};

// What a session's KV cache (or decode state) holds: growth per token and the total at n_ctx.
struct kv_footprint {
    double      bytes_per_token = 0;
    uint64_t    total_bytes = 0;
    std::string layout;  // e.g. "f32 K+V, 30 layers x 64" or the deepseek4 compressed layout
};

namespace detail { struct model_impl; }

class model {
public:
    static std::shared_ptr<const model> load(const std::string & path, const load_params & params = {});

    ~model();
    model(const model &) = delete;
    model & operator=(const model &) = delete;

    const model_info & info() const;

    // KV cache / decode-state bytes a session of this model holds at n_ctx tokens.
    kv_footprint kv_bytes(uint64_t n_ctx) const;

    // Engine-internal view (the tensors, hparams and forward); not for hosts.
    const detail::model_impl & impl() const { return *m_impl; }

private:
    explicit model(std::unique_ptr<detail::model_impl> impl);
    std::unique_ptr<detail::model_impl> m_impl;
};

} // namespace v4
