// GGUF v3 writer: metadata, tensor infos, padding to general.alignment (default 32), then each
// tensor's data at an aligned offset, as the specification and gguf-py's GGUFWriter lay it out.
//
//   v4::gguf::writer w;
//   w.set_metadata(src.metadata());                       // copied as is, general.alignment kept
//   w.add_tensor("blk.0.attn_q.weight", dtype::q4_k, {640, 1024}, n_bytes,
//                [&](uint8_t * dst) { ... fill n_bytes ... });
//   w.write("out.gguf");                                  // via out.gguf.partial, then renamed
//
// Tensor data is produced by the callbacks in the order the tensors were added, one tensor in
// memory at a time. A failed write (or a throwing callback) removes the partial file and leaves
// any existing file at the destination untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "format/gguf.h"

namespace v4::gguf {

class writer {
public:
    using fill_fn = std::function<void(uint8_t * dst)>;

    // Replaces the metadata; keys must be unique (throws invalid_argument naming the duplicate).
    void set_metadata(std::vector<metadata_entry> entries);
    // Sets or replaces one key; erase_metadata() drops a key when present.
    void set_value(const std::string & key, value v);
    void erase_metadata(const std::string & key);

    // n_bytes must equal row_bytes(type, shape[0]) * rows (checked; invalid_argument otherwise).
    void add_tensor(std::string name, dtype type, std::vector<int64_t> shape, size_t n_bytes, fill_fn fill);

    // Throws v4::Error (io) with the path and reason.
    void write(const std::string & path) const;

private:
    struct pending {
        std::string          name;
        dtype                type;
        std::vector<int64_t> shape;
        size_t               n_bytes;
        fill_fn              fill;
    };
    uint64_t alignment() const;

    std::vector<metadata_entry> m_metadata;
    std::vector<pending>        m_tensors;
};

} // namespace v4::gguf
