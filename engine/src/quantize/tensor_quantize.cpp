#include "quantize/tensor_quantize.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "quantize/quantize_row.h"
#include "v4/error.h"

namespace v4::quant {

int64_t tensor_rows(const gguf::tensor_info & t) {
    int64_t rows = 1;
    for (size_t i = 1; i < t.shape.size(); ++i) {
        rows *= t.shape[i];
    }
    return rows;
}

void parallel_rows(int64_t n, int threads, const std::function<void(int64_t, int64_t)> & fn) {
    const int64_t parts = std::clamp<int64_t>(threads, 1, std::max<int64_t>(1, n));
    if (parts == 1) {
        fn(0, n);
        return;
    }
    std::vector<std::thread> pool;
    std::exception_ptr       failure;
    std::mutex               failure_mutex;
    for (int64_t p = 0; p < parts; ++p) {
        pool.emplace_back([&, p] {
            try {
                fn(n * p / parts, n * (p + 1) / parts);
            } catch (...) {
                const std::lock_guard lock(failure_mutex);
                failure = std::current_exception();
            }
        });
    }
    for (std::thread & t : pool) {
        t.join();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

std::vector<float> dequantize_tensor(const gguf::tensor_info & t) {
    const int64_t      n_in = t.shape.at(0), rows = tensor_rows(t);
    const size_t       rb   = *row_bytes(t.type, n_in);
    std::vector<float> out(static_cast<size_t>(n_in * rows));
    for (int64_t r = 0; r < rows; ++r) {
        dequantize_row(t.type, t.data + static_cast<size_t>(r) * rb, out.data() + r * n_in, n_in);
    }
    return out;
}

std::vector<uint8_t> quantize_matrix(dtype type, const float * w, int64_t n_in, int64_t rows,
                                     const float * importance, int threads) {
    const auto rb = row_bytes(type, n_in);
    if (!rb) {
        throw Error(ErrorCode::invalid_argument, std::string("rows of ") + std::to_string(n_in) +
                                                     " elements cannot be stored as " + traits(type).name);
    }
    std::vector<uint8_t> out(*rb * static_cast<size_t>(rows));
    parallel_rows(rows, threads, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            quantize_row(type, w + r * n_in, out.data() + static_cast<size_t>(r) * *rb, n_in, importance);
        }
    });
    return out;
}

double weighted_error(dtype type, const uint8_t * q, const float * w, int64_t n_in, int64_t rows,
                      const float * importance, int threads) {
    const size_t        rb = *row_bytes(type, n_in);
    std::vector<double> partial(static_cast<size_t>(std::max(1, threads)), 0.0);
    std::atomic<int>    slot {0};
    parallel_rows(rows, threads, [&](int64_t r0, int64_t r1) {
        std::vector<float> deq(static_cast<size_t>(n_in));
        double             sum = 0.0;
        for (int64_t r = r0; r < r1; ++r) {
            dequantize_row(type, q + static_cast<size_t>(r) * rb, deq.data(), n_in);
            const float * wr = w + r * n_in;
            for (int64_t c = 0; c < n_in; ++c) {
                const double e = static_cast<double>(wr[c]) - deq[c];
                sum += (importance != nullptr ? importance[c] : 1.0f) * e * e;
            }
        }
        partial[static_cast<size_t>(slot++)] = sum;
    });
    double total = 0.0;
    for (double p : partial) {
        total += p;
    }
    return total;
}

} // namespace v4::quant
