// libFuzzer target for the GGUF reader: any byte string must either parse or throw v4::Error,
// never crash, hang, over-read or allocate without bound. When it parses, every metadata value
// is formatted, the typed getters are called, and the first row of every tensor the kernels
// handle is dequantized, so ASan checks that tensor_info::data/n_bytes really lie in the input.
//
// Build and run: see docs/notes-gguf.md (or tools/fuzz/CMakeLists.txt with -DV4_FUZZ=ON).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "format/gguf.h"
#include "reference/dequantize.h"
#include "tensor/kernel_type.h"
#include "v4/error.h"

namespace {

template <typename Fn> void ignore_errors(Fn && fn) {
    try {
        fn();
    } catch (const v4::Error &) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    try {
        const auto f = v4::gguf::file::from_memory(std::span<const uint8_t>(data, size));
        for (const auto & entry : f.metadata()) {
            (void) entry.val.to_display_string(4);
            ignore_errors([&] { (void) f.get_u32(entry.key); });
            ignore_errors([&] { (void) f.get_f32(entry.key); });
            ignore_errors([&] { (void) f.get_string(entry.key); });
            ignore_errors([&] { (void) f.get_string_array(entry.key); });
            ignore_errors([&] { (void) f.get_i32_array(entry.key); });
            ignore_errors([&] { (void) f.get_f32_array(entry.key); });
        }
        std::vector<float> row;
        for (const auto & t : f.tensors()) {
            volatile uint8_t sink = 0;
            if (t.n_bytes > 0) {
                sink = static_cast<uint8_t>(t.data[0] ^ t.data[t.n_bytes - 1]);
            }
            (void) sink;
            const auto kt = v4::kernel_type(t.type);
            if (!kt || t.shape[0] > (int64_t{1} << 16)) {
                continue;
            }
            row.resize(static_cast<size_t>(t.shape[0]));
            v4::kernels::ref::dequantize_row(*kt, t.data, row.data(), t.shape[0]);
        }
    } catch (const v4::Error &) {
    }
    return 0;
}
