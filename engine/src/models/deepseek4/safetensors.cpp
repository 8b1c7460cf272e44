#include "models/deepseek4/safetensors.h"
#include "models/deepseek4/quant_formats.h"

#include <cstring>
#include <fstream>

#include "models/deepseek4/json.h"
#include "v4/error.h"

namespace v4::deepseek4 {

namespace {

size_t dtype_size(const std::string & dtype) {
    if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
    if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
    if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
    if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2" ||
        dtype == "F8_E8M0") return 1;
    return 0;
}

float half_to_float(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t mant = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: renormalise
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) { mant <<= 1; exp--; }
            bits = sign | (exp << 23) | ((mant & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

} // namespace

std::string shape_str(const std::vector<int64_t> & shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); i++) {
        s += (i ? ", " : "") + std::to_string(shape[i]);
    }
    return s + "]";
}

safetensors_file::safetensors_file(const std::string & path) : m_path(path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
        throw Error(ErrorCode::io, path + ": cannot open");
    }
    const std::streamsize size = in.tellg();
    in.seekg(0);
    m_bytes.resize(size_t(size));
    if (size > 0 && !in.read(reinterpret_cast<char *>(m_bytes.data()), size)) {
        throw Error(ErrorCode::io, path + ": read failed");
    }
    if (m_bytes.size() < 8) {
        throw Error(ErrorCode::format, path + ": file of " + std::to_string(m_bytes.size()) +
                                           " bytes is too short for a safetensors header");
    }
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) {
        header_len = (header_len << 8) | m_bytes[size_t(i)];
    }
    if (header_len > m_bytes.size() - 8 || header_len > (uint64_t(100) << 20)) {
        throw Error(ErrorCode::format, path + ": header length " + std::to_string(header_len) +
                                           " exceeds the file size " + std::to_string(m_bytes.size()));
    }
    m_data_start = 8 + size_t(header_len);
    const size_t data_size = m_bytes.size() - m_data_start;
    const json_value header = json_parse(
        std::string_view(reinterpret_cast<const char *>(m_bytes.data()) + 8, size_t(header_len)), path + " header");
    if (header.type != json_value::kind::object) {
        throw Error(ErrorCode::format, path + ": header is not a JSON object");
    }
    for (const auto & [name, entry] : header.obj) {
        if (name == "__metadata__") {
            continue;
        }
        const json_value * dtype = entry.find("dtype");
        const json_value * shape = entry.find("shape");
        const json_value * offsets = entry.find("data_offsets");
        if (!dtype || dtype->type != json_value::kind::string || !shape || shape->type != json_value::kind::array ||
            !offsets || offsets->type != json_value::kind::array || offsets->arr.size() != 2) {
            throw Error(ErrorCode::format, path + ": tensor '" + name + "' needs dtype, shape and data_offsets[2]");
        }
        st_tensor t;
        t.dtype = dtype->str;
        const size_t esize = dtype_size(t.dtype);
        if (esize == 0) {
            throw Error(ErrorCode::format, path + ": tensor '" + name + "' has unknown dtype '" + t.dtype + "'");
        }
        uint64_t count = 1;
        for (const json_value & d : shape->arr) {
            if (d.type != json_value::kind::number || d.num < 0 || d.num > 9.0e15 || d.num != double(int64_t(d.num))) {
                throw Error(ErrorCode::format, path + ": tensor '" + name + "' has a bad dimension");
            }
            const uint64_t dim = uint64_t(d.num);
            if (dim != 0 && count > (UINT64_MAX / esize) / dim) {
                throw Error(ErrorCode::format, path + ": tensor '" + name + "' element count overflows");
            }
            count *= dim;
            t.shape.push_back(int64_t(dim));
        }
        const double b = offsets->arr[0].num, e = offsets->arr[1].num;
        if (offsets->arr[0].type != json_value::kind::number || offsets->arr[1].type != json_value::kind::number ||
            b < 0 || e < b || e > double(data_size)) {
            throw Error(ErrorCode::format, path + ": tensor '" + name + "' data_offsets lie outside the " +
                                               std::to_string(data_size) + "-byte data section");
        }
        t.offset = size_t(b);
        t.nbytes = size_t(e) - size_t(b);
        if (t.nbytes != count * esize) {
            throw Error(ErrorCode::format, path + ": tensor '" + name + "' is " + std::to_string(t.nbytes) +
                                               " bytes but " + t.dtype + " " + shape_str(t.shape) + " needs " +
                                               std::to_string(count * esize));
        }
        m_tensors.emplace(name, std::move(t));
    }
}

const st_tensor & safetensors_file::info(const std::string & name) const {
    auto it = m_tensors.find(name);
    if (it == m_tensors.end()) {
        throw Error(ErrorCode::format, m_path + ": missing tensor '" + name + "'");
    }
    return it->second;
}

void safetensors_file::check_shape(const std::string & name, const st_tensor & t,
                                   const std::vector<int64_t> & shape) const {
    if (!shape.empty() && t.shape != shape) {
        throw Error(ErrorCode::format, m_path + ": tensor '" + name + "' has shape " + shape_str(t.shape) +
                                           ", expected " + shape_str(shape));
    }
}

// The scale tensor of a quantized weight: HF's "<name>_scale_inv", or the release's "<...>.scale".
const st_tensor * safetensors_file::scale_of(const std::string & name, std::string & scale_name) const {
    scale_name = name + "_scale_inv";
    if (has(scale_name)) return &m_tensors.at(scale_name);
    if (name.size() > 6 && name.compare(name.size() - 6, 6, "weight") == 0) {
        scale_name = name.substr(0, name.size() - 6) + "scale";
        if (has(scale_name)) return &m_tensors.at(scale_name);
    }
    return nullptr;
}

// A scale tensor as floats: F32 / BF16 / F16 multipliers, or UE8M0 exponent bytes.
std::vector<float> safetensors_file::scales(const std::string & name, const std::vector<int64_t> & shape) const {
    const st_tensor & t = info(name);
    if (t.dtype != "F8_E8M0" && t.dtype != "U8") return f32(name, shape);
    check_shape(name, t, shape);
    const uint8_t * p = m_bytes.data() + m_data_start + t.offset;
    std::vector<float> out(t.nbytes);
    for (size_t i = 0; i < out.size(); i++) out[i] = e8m0_to_float(p[i]);
    return out;
}

// FP8 E4M3 with 128 x 128 block scales; leading dims (stacked experts) each have their own blocks.
std::vector<float> safetensors_file::f32_fp8(const std::string & name, const st_tensor & t,
                                             const std::vector<int64_t> & shape) const {
    check_shape(name, t, shape);
    std::string scale_name;
    if (t.shape.size() < 2 || !scale_of(name, scale_name)) {
        throw Error(ErrorCode::format, m_path + ": FP8 tensor '" + name + "' has no 2-D shape and scale ('" + name +
                                           "_scale_inv' or '.scale')");
    }
    constexpr int block = 128;
    const int64_t rows = t.shape[t.shape.size() - 2], cols = t.shape.back();
    std::vector<int64_t> scale_shape(t.shape.begin(), t.shape.end() - 2);
    scale_shape.push_back((rows + block - 1) / block);
    scale_shape.push_back((cols + block - 1) / block);
    const std::vector<float> scale = scales(scale_name, scale_shape);
    const int64_t batch = int64_t(t.nbytes) / (rows * cols), scale_per = scale_shape[scale_shape.size() - 2] * scale_shape.back();
    std::vector<float> out(t.nbytes);
    const uint8_t * p = m_bytes.data() + m_data_start + t.offset;
    for (int64_t b = 0; b < batch; b++) {
        dequant_fp8_blocks(p + b * rows * cols, rows, cols, scale.data() + b * scale_per, block, out.data() + b * rows * cols);
    }
    return out;
}

// FP4 E2M1 packed two per byte along the last dim, one UE8M0 scale per 32 values (MXFP4).
std::vector<float> safetensors_file::f32_fp4(const std::string & name, const st_tensor & t, const std::string & scale_name,
                                             const std::vector<int64_t> & shape) const {
    if (shape.empty() || shape.back() % 32 != 0) {
        throw Error(ErrorCode::format, m_path + ": FP4 tensor '" + name + "' needs a last dimension divisible by 32");
    }
    std::vector<int64_t> packed = shape, scale_shape = shape;
    packed.back() /= 2;
    scale_shape.back() /= 32;
    check_shape(name, t, packed);
    const st_tensor & s = info(scale_name);
    if (s.dtype != "F8_E8M0" && s.dtype != "U8") {
        throw Error(ErrorCode::format, m_path + ": FP4 scale '" + scale_name + "' is " + s.dtype + ", expected F8_E8M0");
    }
    check_shape(scale_name, s, scale_shape);
    const int64_t cols = shape.back(), rows = int64_t(t.nbytes) * 2 / cols;
    std::vector<float> out(size_t(rows * cols));
    dequant_fp4(m_bytes.data() + m_data_start + t.offset, rows, cols, m_bytes.data() + m_data_start + s.offset, out.data());
    return out;
}

std::vector<float> safetensors_file::f32(const std::string & name, const std::vector<int64_t> & shape) const {
    const st_tensor & t = info(name);
    if (t.dtype == "F8_E4M3") return f32_fp8(name, t, shape);
    std::string scale_name;
    if ((t.dtype == "I8" || t.dtype == "U8") && scale_of(name, scale_name)) return f32_fp4(name, t, scale_name, shape);
    check_shape(name, t, shape);
    const uint8_t * p = m_bytes.data() + m_data_start + t.offset;
    std::vector<float> out;
    if (t.dtype == "F32") {
        out.resize(t.nbytes / 4);
        std::memcpy(out.data(), p, t.nbytes);
    } else if (t.dtype == "F16" || t.dtype == "BF16") {
        out.resize(t.nbytes / 2);
        for (size_t i = 0; i < out.size(); i++) {
            uint16_t h;
            std::memcpy(&h, p + 2 * i, 2);
            if (t.dtype == "F16") {
                out[i] = half_to_float(h);
            } else {
                const uint32_t bits = uint32_t(h) << 16;
                std::memcpy(&out[i], &bits, 4);
            }
        }
    } else {
        throw Error(ErrorCode::unsupported, m_path + ": tensor '" + name + "' has dtype " + t.dtype +
                                                ", expected F32, F16, BF16, F8_E4M3 (+ scale) or packed FP4 (+ scale)");
    }
    return out;
}

std::vector<int64_t> safetensors_file::i64(const std::string & name, const std::vector<int64_t> & shape) const {
    const st_tensor & t = info(name);
    check_shape(name, t, shape);
    const uint8_t * p = m_bytes.data() + m_data_start + t.offset;
    std::vector<int64_t> out;
    if (t.dtype == "I64") {
        out.resize(t.nbytes / 8);
        std::memcpy(out.data(), p, t.nbytes);
    } else if (t.dtype == "I32") {
        out.resize(t.nbytes / 4);
        for (size_t i = 0; i < out.size(); i++) {
            int32_t v;
            std::memcpy(&v, p + 4 * i, 4);
            out[i] = v;
        }
    } else {
        throw Error(ErrorCode::unsupported, m_path + ": tensor '" + name + "' has dtype " + t.dtype +
                                                ", expected I64 or I32");
    }
    return out;
}

} // namespace v4::deepseek4
