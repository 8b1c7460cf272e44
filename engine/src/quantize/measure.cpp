// measure_sensitivity(): one base forward over the calibration tokens (recording the importance
// matrix and the base log-probabilities), then per quantizable tensor: quantize it to every
// candidate (imatrix-weighted), compute the proxy error, and run one forward with the tensor at
// its cheapest candidate to measure the KL that it adds (v4/quantize.h explains the estimate).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <type_traits>

#include "models/model_impl.h"
#include "quantize/candidates.h"
#include "quantize/probe_backend.h"
#include "quantize/tensor_quantize.h"
#include "v4/error.h"
#include "v4/quantize.h"
#include "v4/tokenizer.h"

namespace v4 {

namespace {

using detail::model_impl;
// Whatever element type the families' KV cache holds (forward_args decides).
using kv_elem = std::remove_pointer_t<decltype(detail::forward_args::k_cache)>;

// Runs the whole token list as one ubatch and returns the log-softmax of every position.
class calibration_runner {
public:
    calibration_runner(const model_impl & m, std::vector<int32_t> tokens, quant::probe_backend & be)
        : m_m(m), m_tokens(std::move(tokens)), m_be(be) {
        const size_t cache = static_cast<size_t>(m.hp.n_layer) * m_tokens.size() * m.hp.kv_dim();
        m_k.assign(cache, 0.0f);
        m_v.assign(cache, 0.0f);
        m_scratch.resize(detail::scratch_floats(m.hp, static_cast<int>(m_tokens.size())));
        m_logits.resize(m_tokens.size() * m.hp.n_vocab);
    }

    const std::vector<float> & log_probs() {
        detail::forward_args a;
        a.tokens     = m_tokens;
        a.pos0       = 0;
        a.k_cache    = m_k.data();
        a.v_cache    = m_v.data();
        a.n_ctx      = static_cast<int>(m_tokens.size());
        a.logits     = m_logits.data();
        a.all_logits = true;
        a.be         = &m_be;
        a.scratch    = &m_scratch;
        m_m.forward(m_m, a);
        const size_t nv = m_m.hp.n_vocab;
        for (size_t t = 0; t < m_tokens.size(); ++t) {
            float *     row = m_logits.data() + t * nv;
            const float mx  = *std::max_element(row, row + nv);
            double      s   = 0.0;
            for (size_t i = 0; i < nv; ++i) {
                s += std::exp(static_cast<double>(row[i]) - mx);
            }
            const float lse = mx + static_cast<float>(std::log(s));
            for (size_t i = 0; i < nv; ++i) {
                row[i] -= lse;
            }
        }
        return m_logits;
    }

    // Mean over positions of KL(base || current), both given as log-probabilities.
    double mean_kl(const std::vector<float> & base) {
        const std::vector<float> & cur = log_probs();
        double                     sum = 0.0;
        for (size_t i = 0; i < base.size(); ++i) {
            const double lp = base[i];
            sum += std::exp(lp) * (lp - cur[i]);
        }
        return std::max(0.0, sum / static_cast<double>(m_tokens.size()));
    }

    size_t n_tokens() const { return m_tokens.size(); }

private:
    const model_impl &     m_m;
    std::vector<int32_t>   m_tokens;
    quant::probe_backend & m_be;
    std::vector<float>     m_k, m_v, m_scratch, m_logits;
};

bool is_planned(const gguf::tensor_info & t) {
    return t.shape.size() >= 2 && quant::tensor_rows(t) > 1 && t.shape[0] % 32 == 0 && traits(t.type).supported;
}

} // namespace

quantize_measurement describe_tensors(const std::string & model_path) {
    const gguf::file     f = gguf::file::open(model_path);
    quantize_measurement out;
    out.model_path = model_path;
    for (const gguf::tensor_info & t : f.tensors()) {
        if (!is_planned(t)) {
            out.fixed_bytes += t.n_bytes;
            continue;
        }
        tensor_sensitivity s;
        s.name        = t.name;
        s.n_in        = t.shape[0];
        s.n_elements  = t.shape[0] * quant::tensor_rows(t);
        s.source_type = traits(t.type).name;
        for (dtype c : quant::candidate_types(s.n_in)) {
            s.types.emplace_back(traits(c).name);
            s.bytes.push_back(*row_bytes(c, s.n_in) * static_cast<size_t>(quant::tensor_rows(t)));
            s.proxy.push_back(0.0);
            s.kl.push_back(0.0);
        }
        out.tensors.push_back(std::move(s));
    }
    return out;
}

quantize_measurement measure_sensitivity(const std::string & model_path, const std::string & calibration_text,
                                         const measure_params & params) {
    const auto t0    = std::chrono::steady_clock::now();
    const auto model = model::load(model_path);
    const model_impl & m = model->impl();
    const tokenizer    tok = tokenizer::open(model_path);

    std::vector<int32_t> ids;
    if (tok.add_bos() && tok.bos() >= 0) {
        ids.push_back(tok.bos());
    }
    const std::vector<int32_t> text_ids = tok.encode(calibration_text, false, false);
    ids.insert(ids.end(), text_ids.begin(), text_ids.end());
    const size_t want = static_cast<size_t>(std::max(16, params.n_tokens));
    if (ids.size() < want) {
        throw Error(ErrorCode::invalid_argument, "calibration text has " + std::to_string(ids.size()) +
                                                     " tokens; " + std::to_string(want) + " are needed");
    }
    ids.resize(std::min<size_t>({want, ids.size(), m.hp.n_ctx_train}));

    quantize_measurement out;
    out.model_path  = model_path;
    out.fingerprint = model->info().fingerprint;
    out.n_tokens    = static_cast<int>(ids.size());

    quant::probe_backend be(params.threads, params.precision == activation_precision::accurate);
    calibration_runner   run(m, ids, be);
    be.set_recording(true);
    const std::vector<float> base = run.log_probs();
    be.set_recording(false);

    std::vector<const gguf::tensor_info *> planned;
    for (const gguf::tensor_info & t : m.file.tensors()) {
        if (!is_planned(t)) {
            out.fixed_bytes += t.n_bytes;
            continue;
        }
        planned.push_back(&t);
        const auto e = be.energy().find(t.data);
        if (e != be.energy().end() && e->second.rows > 0) {
            std::vector<float> imp(e->second.sum_x2.size());
            for (size_t c = 0; c < imp.size(); ++c) {
                imp[c] = static_cast<float>(e->second.sum_x2[c] / static_cast<double>(e->second.rows));
            }
            out.imatrix[t.name] = std::move(imp);
        }
    }

    // Tensors whose every candidate is measured, spread evenly over the file.
    std::vector<bool> validate(planned.size(), false);
    const int         n_val = std::min<int>(params.validate_tensors, static_cast<int>(planned.size()));
    for (int i = 0; i < n_val; ++i) {
        validate[static_cast<size_t>(n_val == 1 ? 0 : i * (static_cast<int>(planned.size()) - 1) / (n_val - 1))] = true;
    }

    for (size_t ti = 0; ti < planned.size(); ++ti) {
        const gguf::tensor_info & t = *planned[ti];
        if (params.progress && !params.progress(static_cast<int>(ti), static_cast<int>(planned.size()), t.name)) {
            throw Error(ErrorCode::cancelled, "measurement cancelled");
        }
        const int64_t      n_in = t.shape[0], rows = quant::tensor_rows(t);
        const auto         imp_it = out.imatrix.find(t.name);
        const float *      imp    = imp_it != out.imatrix.end() ? imp_it->second.data() : nullptr;
        const std::vector<float> w = quant::dequantize_tensor(t);

        tensor_sensitivity s;
        s.name        = t.name;
        s.n_elements  = n_in * rows;
        s.n_in        = n_in;
        s.source_type = traits(t.type).name;
        double probe_kl = 0.0;
        for (dtype c : quant::candidate_types(n_in)) {
            const std::vector<uint8_t> q = quant::quantize_matrix(c, w.data(), n_in, rows, imp, params.threads);
            s.types.emplace_back(traits(c).name);
            s.bytes.push_back(q.size());
            s.proxy.push_back(quant::weighted_error(c, q.data(), w.data(), n_in, rows, imp, params.threads));
            const bool probe = s.types.size() == 1;
            if (probe || validate[ti]) {
                detail::weight qw;
                qw.type      = c;
                qw.n_in      = n_in;
                qw.n_out     = rows;
                qw.row_bytes = *row_bytes(c, n_in);
                qw.data      = q.data();
                be.override_weight(t.data, qw);
                const double kl = run.mean_kl(base);
                be.clear_override();
                if (probe) {
                    probe_kl = kl;
                }
                if (validate[ti]) {
                    s.kl_measured.push_back(kl);
                }
            }
        }
        for (double p : s.proxy) {
            s.kl.push_back(s.proxy.front() > 0.0 ? probe_kl * p / s.proxy.front() : 0.0);
        }
        out.tensors.push_back(std::move(s));
    }
    if (params.progress) {
        params.progress(static_cast<int>(planned.size()), static_cast<int>(planned.size()), "done");
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

} // namespace v4
