// safetensors reader: 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and [begin, end) byte range in the data section, then the data. The whole file is
// read into memory (fixtures and small models; mmap is a TODO for real checkpoints). Every header
// entry is checked: known dtype, shape product * element size == byte range, range inside the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace v4::deepseek4 {

struct st_tensor {
    std::string dtype;           // "F32", "F16", "BF16", "I64", "I32", ...
    std::vector<int64_t> shape;  // outermost first, as in PyTorch
    size_t offset = 0;           // into the data section
    size_t nbytes = 0;
};

class safetensors_file {
public:
    explicit safetensors_file(const std::string & path);

    const std::string & path() const { return m_path; }
    bool has(const std::string & name) const { return m_tensors.count(name) != 0; }
    const st_tensor & info(const std::string & name) const;  // throws format "missing tensor"
    const std::map<std::string, st_tensor> & tensors() const { return m_tensors; }

    // Converts to fp32: F32 / F16 / BF16; F8_E4M3 with 128x128 block scales ("<name>_scale_inv" as
    // HF writes it, or the release's ".scale": F32/BF16 multipliers or F8_E8M0); FP4 E2M1 packed in
    // I8/U8 [.., n/2] with F8_E8M0 scales [.., n/32] (then `shape` is the unpacked one). With `shape`
    // non-empty the (logical) shape must match exactly.
    std::vector<float> f32(const std::string & name, const std::vector<int64_t> & shape = {}) const;
    // Integer tensor (I64/I32) as int64.
    std::vector<int64_t> i64(const std::string & name, const std::vector<int64_t> & shape = {}) const;

private:
    const st_tensor * scale_of(const std::string & name, std::string & scale_name) const;
    std::vector<float> scales(const std::string & name, const std::vector<int64_t> & shape) const;
    std::vector<float> f32_fp8(const std::string & name, const st_tensor & t, const std::vector<int64_t> & shape) const;
    std::vector<float> f32_fp4(const std::string & name, const st_tensor & t, const std::string & scale_name,
                               const std::vector<int64_t> & shape) const;
    void check_shape(const std::string & name, const st_tensor & t, const std::vector<int64_t> & shape) const;

    std::string m_path;
    std::vector<uint8_t> m_bytes;  // the whole file
    size_t m_data_start = 0;
    std::map<std::string, st_tensor> m_tensors;
};

std::string shape_str(const std::vector<int64_t> & shape);

} // namespace v4::deepseek4
