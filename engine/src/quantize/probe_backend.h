// A backend wrapper for calibration runs: it forwards every call to the CPU backend, and
//  - while recording, accumulates sum x_c^2 over the rows each weight is multiplied with (the
//    importance matrix), keyed by the weight's data pointer;
//  - replaces a weight by another (a quantized copy) wherever the forward uses it, so one tensor
//    can be measured quantized without touching the loaded model.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"

namespace v4::quant {

class probe_backend final : public detail::backend {
public:
    // accurate_activations: the CPU backend's two-pass activation quantization (v4/session.h).
    probe_backend(int n_threads, bool accurate_activations);

    void set_recording(bool on) { m_recording = on; }
    // Sum of x_c^2 and the number of rows seen, per weight data pointer.
    struct column_energy {
        std::vector<double> sum_x2;
        int64_t             rows = 0;
    };
    const std::unordered_map<const uint8_t *, column_energy> & energy() const { return m_energy; }

    // Uses `with` wherever a weight whose data is `original` appears; clear_override() undoes it.
    void override_weight(const uint8_t * original, const detail::weight & with) { m_override = {original, with}; }
    void clear_override() { m_override = {}; }

    const char * name() const override { return "probe"; }
    int          n_threads() const override { return m_inner->n_threads(); }
    void get_rows(const detail::weight & w, std::span<const int32_t> ids, float * out) override;
    void matmul(const detail::weight & w, const float * x, int n_rows, float * y) override;
    void rms_norm(const float * x, const float * w, int n_rows, int n, float eps, float * y) override {
        m_inner->rms_norm(x, w, n_rows, n, eps, y);
    }
    void rope(float * x, int n_rows, int n_head, int head_dim, const int32_t * pos, const detail::rope_params & p) override {
        m_inner->rope(x, n_rows, n_head, head_dim, pos, p);
    }
    void glu(float * gate, const float * up, size_t n, detail::glu_kind kind) override { m_inner->glu(gate, up, n, kind); }
    void attention(const detail::attention_args & args) override { m_inner->attention(args); }

private:
    const detail::weight & resolve(const detail::weight & w) const;

    struct replacement {
        const uint8_t * original = nullptr;
        detail::weight  with;
    };
    std::unique_ptr<detail::backend>                      m_inner;
    bool                                                  m_recording = false;
    std::unordered_map<const uint8_t *, column_energy>    m_energy;
    replacement                                           m_override;
};

} // namespace v4::quant
