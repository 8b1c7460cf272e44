// write_quantized(): every planned tensor is dequantized from the source (any type the reference
// kernels read) to f32 and quantized to its planned type, one tensor at a time, while the GGUF
// writer streams the file; the other tensors are copied byte for byte.
#include <algorithm>
#include <string>

#include "format/gguf_writer.h"
#include "quantize/tensor_quantize.h"
#include "v4/error.h"
#include "v4/quantize.h"

namespace v4 {

namespace {

dtype type_named(const std::string & name) {
    for (dtype d : all_dtypes()) {
        if (name == traits(d).name) {
            return d;
        }
    }
    throw Error(ErrorCode::invalid_argument, "unknown type '" + name + "'");
}

} // namespace

uint64_t gguf_tensor_bytes(const std::string & path) {
    uint64_t n = 0;
    for (const gguf::tensor_info & t : gguf::file::open(path).tensors()) {
        n += t.n_bytes;
    }
    return n;
}

void write_quantized(const std::string & src_path, const std::string & dst_path, const quantize_plan & plan,
                     const std::map<std::string, std::vector<float>> * imatrix, const write_params & params) {
    const gguf::file src = gguf::file::open(src_path);
    gguf::writer     w;
    w.set_metadata(src.metadata());
    // The source's file type (e.g. "mostly Q4_K_M") no longer describes a mixed file.
    w.erase_metadata("general.file_type");

    size_t planned = 0;
    for (const gguf::tensor_info & t : src.tensors()) {
        const auto it = plan.type_of.find(t.name);
        if (it == plan.type_of.end()) {
            w.add_tensor(t.name, t.type, t.shape, t.n_bytes, [&t](uint8_t * dst) { std::copy_n(t.data, t.n_bytes, dst); });
            continue;
        }
        ++planned;
        const dtype   type = type_named(it->second);
        const int64_t n_in = t.shape.at(0), rows = quant::tensor_rows(t);
        const auto    rb   = row_bytes(type, n_in);
        if (!rb) {
            throw Error(ErrorCode::invalid_argument, "tensor '" + t.name + "' (rows of " + std::to_string(n_in) +
                                                         ") cannot be stored as " + it->second);
        }
        const float * imp = nullptr;
        if (imatrix != nullptr) {
            const auto im = imatrix->find(t.name);
            if (im != imatrix->end() && static_cast<int64_t>(im->second.size()) == n_in) {
                imp = im->second.data();
            }
        }
        w.add_tensor(t.name, type, t.shape, *rb * static_cast<size_t>(rows), [&, type, n_in, rows, imp](uint8_t * dst) {
            if (params.progress && !params.progress(static_cast<int>(&t - src.tensors().data()),
                                                    static_cast<int>(src.tensors().size()), t.name)) {
                throw Error(ErrorCode::cancelled, "quantization cancelled");
            }
            const std::vector<float>   f = quant::dequantize_tensor(t);
            const std::vector<uint8_t> q = quant::quantize_matrix(type, f.data(), n_in, rows, imp, params.threads);
            std::copy(q.begin(), q.end(), dst);
        });
    }
    if (planned != plan.type_of.size()) {
        throw Error(ErrorCode::invalid_argument, "the plan names " + std::to_string(plan.type_of.size() - planned) +
                                                     " tensors that " + src_path + " does not have");
    }
    w.write(dst_path);
}

} // namespace v4
