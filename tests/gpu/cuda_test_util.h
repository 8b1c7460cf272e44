// Helpers shared by the CUDA kernel tests: the skip when no device answers, device buffers, and
// random GGUF rows whose scale fields hold sane values (random bytes there would give inf/NaN).
#pragma once

#include <QTest>

#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "cuda/device.h"
#include "reference/dequantize.h"

namespace cudatest {

// QSKIPs the calling test function (or initTestCase: the whole test) with the probe's reason.
#define V4_REQUIRE_CUDA()                                                                                        \
    do {                                                                                                         \
        const v4::kernels::cuda::device_probe probe_ = v4::kernels::cuda::probe_devices();                       \
        if (probe_.device_count == 0)                                                                            \
            QSKIP(qPrintable(QStringLiteral("no CUDA device: %1").arg(QString::fromStdString(probe_.unavailable_reason)))); \
    } while (0)

inline void check(cudaError_t err, const char * what) {
    if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

// A device copy of a host vector; read() brings it back.
template <class T>
struct dev_vec {
    T *    ptr = nullptr;
    size_t n = 0;
    explicit dev_vec(size_t count) : n(count) {
        check(cudaMalloc(&ptr, std::max<size_t>(1, n) * sizeof(T)), "cudaMalloc");
        check(cudaMemset(ptr, 0, std::max<size_t>(1, n) * sizeof(T)), "cudaMemset");
    }
    explicit dev_vec(const std::vector<T> & host) : dev_vec(host.size()) {
        check(cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice), "upload");
    }
    ~dev_vec() { cudaFree(ptr); }
    dev_vec(const dev_vec &) = delete;
    std::vector<T> read() const {
        check(cudaDeviceSynchronize(), "kernel");
        std::vector<T> host(n);
        check(cudaMemcpy(host.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost), "download");
        return host;
    }
};

// Bytes of one row of n elements of ggml type t (n a multiple of the block size).
inline size_t row_bytes(v4::kernels::qtype t, int64_t n) {
    const auto g = v4::kernels::geometry(t);
    return static_cast<size_t>(n / g.block_size) * g.block_bytes;
}

// n_rows random rows of type t: random quant bytes, scales set to random normal fp16/bf16/f32
// values of moderate size (and MXFP4 exponents near 2^0).
inline std::vector<uint8_t> random_rows(v4::kernels::qtype t, int64_t n_rows, int64_t n, uint32_t seed) {
    using v4::kernels::qtype;
    namespace ref = v4::kernels::ref;
    std::mt19937                          rng(seed);
    std::uniform_int_distribution<int>    byte(0, 255);
    std::uniform_real_distribution<float> val(-1.0f, 1.0f);
    std::uniform_real_distribution<float> scale(0.001f, 0.05f);
    const size_t         rb = row_bytes(t, n);
    std::vector<uint8_t> out(rb * static_cast<size_t>(n_rows));
    for (uint8_t & b : out) b = static_cast<uint8_t>(byte(rng));
    auto put16 = [&](size_t at, uint16_t v) { std::memcpy(out.data() + at, &v, 2); };
    const auto   g = v4::kernels::geometry(t);
    const size_t n_blocks = out.size() / g.block_bytes;
    for (size_t b = 0; b < n_blocks; ++b) {
        const size_t at = b * g.block_bytes;
        switch (t) {
            case qtype::f32: { const float f = val(rng); std::memcpy(out.data() + at, &f, 4); break; }
            case qtype::f16: put16(at, ref::fp32_to_fp16(val(rng))); break;
            case qtype::bf16: put16(at, ref::fp32_to_bf16(val(rng))); break;
            case qtype::q4_0: case qtype::q5_0: case qtype::q8_0: put16(at, ref::fp32_to_fp16(scale(rng))); break;
            case qtype::q4_1: case qtype::q5_1:
            case qtype::q4_k: case qtype::q5_k:
                put16(at, ref::fp32_to_fp16(scale(rng)));
                put16(at + 2, ref::fp32_to_fp16(t == qtype::q4_1 || t == qtype::q5_1 ? -scale(rng) : scale(rng)));
                break;
            case qtype::q3_k: put16(at + 108, ref::fp32_to_fp16(scale(rng))); break;
            case qtype::q6_k: put16(at + 208, ref::fp32_to_fp16(scale(rng))); break;
            case qtype::mxfp4: out[at] = static_cast<uint8_t>(120 + byte(rng) % 8); break;
            default: break;
        }
    }
    return out;
}

// Every weight type the CUDA path accepts, each with a row width (elements) chosen to exercise the
// kernels' edges: rows that start off a 16-byte boundary, rows whose last 32-chunk stretch is short.
struct weight_type_case {
    v4::kernels::qtype t;
    const char *       name;
    int                n_in;
};
inline std::vector<weight_type_case> weight_type_cases() {
    using v4::kernels::qtype;
    return {
        {qtype::f32, "f32", 96},     {qtype::f16, "f16", 160},     {qtype::bf16, "bf16", 224},
        {qtype::q4_0, "q4_0", 352},  {qtype::q4_1, "q4_1", 96},    {qtype::q5_0, "q5_0", 160},
        {qtype::q5_1, "q5_1", 288},  {qtype::q8_0, "q8_0", 608},   {qtype::mxfp4, "mxfp4", 2880},
        {qtype::q3_k, "q3_K", 768},  {qtype::q4_k, "q4_K", 1280},  {qtype::q5_k, "q5_K", 512},
        {qtype::q6_k, "q6_K", 2304},
    };
}

// Row r dequantized by kernels/reference (the truth).
inline std::vector<float> reference_row(v4::kernels::qtype t, const std::vector<uint8_t> & rows, int64_t r, int64_t n) {
    std::vector<float> out(static_cast<size_t>(n));
    if (!v4::kernels::ref::dequantize_row(t, rows.data() + row_bytes(t, n) * r, out.data(), n)) {
        throw std::runtime_error("reference cannot dequantize this type");
    }
    return out;
}

} // namespace cudatest
