#include "quantize/probe_backend.h"

namespace v4::quant {

probe_backend::probe_backend(int n_threads, bool accurate_activations)
    : m_inner(detail::make_cpu_backend(n_threads, accurate_activations)) {}

const detail::weight & probe_backend::resolve(const detail::weight & w) const {
    return m_override.original != nullptr && w.data == m_override.original ? m_override.with : w;
}

void probe_backend::get_rows(const detail::weight & w, std::span<const int32_t> ids, float * out) {
    m_inner->get_rows(resolve(w), ids, out);
}

void probe_backend::matmul(const detail::weight & w, const float * x, int n_rows, float * y) {
    if (m_recording) {
        column_energy & e = m_energy[w.data];
        e.sum_x2.resize(static_cast<size_t>(w.n_in), 0.0);
        for (int r = 0; r < n_rows; ++r) {
            const float * xr = x + static_cast<size_t>(r) * w.n_in;
            for (int64_t c = 0; c < w.n_in; ++c) {
                e.sum_x2[static_cast<size_t>(c)] += static_cast<double>(xr[c]) * xr[c];
            }
        }
        e.rows += n_rows;
    }
    m_inner->matmul(resolve(w), x, n_rows, y);
}

} // namespace v4::quant
