// Selective quantization: measure how much each weight tensor's quantization hurts the model's
// output, then pick one type per tensor that minimises the total measured error under a size
// budget, and write the result as a standard GGUF file.
//
//   v4::quantize_measurement m = v4::measure_sensitivity("model.gguf", calibration_text, {});
//   v4::quantize_plan plan = v4::plan_for_budget(m, budget_bytes);   // or plan_q4_k_m_rule(m)
//   v4::write_quantized("model.gguf", "out.gguf", plan, &m.imatrix, {});
//
// What "error" means (see docs/QUANTIZATION.md): for every tensor t and candidate type q,
//   proxy(t, q) = sum over rows and columns c of imatrix[t][c] * (w - dequant(quant(w)))^2,
// the expected squared error that quantizing t adds to t's output per calibration token
// (imatrix[t][c] = mean of x_c^2 over the calibration tokens). Once per tensor the real thing is
// measured: the mean KL(base || probe) of the model's next-token distribution over the calibration
// tokens when only t is quantized to the probe type (the cheapest candidate). The estimated KL of
// every other type is kl_probe * proxy(t, q) / proxy(t, probe). measure_sensitivity can also
// measure the KL of every candidate of a few tensors to check that estimate (validate_tensors).
//
// Functions throw v4::Error: io/format for unreadable models, invalid_argument for a budget below
// the smallest possible file or an unknown type name, cancelled when progress returns false.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "v4/session.h"

namespace v4 {

struct tensor_sensitivity {
    std::string              name;
    int64_t                  n_elements = 0;
    int64_t                  n_in = 0;        // elements per row
    std::string              source_type;     // type in the measured file
    std::vector<std::string> types;           // candidates, cheapest first ("q3_K", ... "q8_0")
    std::vector<uint64_t>    bytes;           // size of the tensor in each candidate type
    std::vector<double>      proxy;           // imatrix-weighted squared error per token
    std::vector<double>      kl;              // estimated added KL (nats/token) per candidate
    std::vector<double>      kl_measured;     // measured KL per candidate, or empty (not validated)
};

struct quantize_measurement {
    std::string                              model_path;
    std::string                              fingerprint;  // model_info::fingerprint
    int                                      n_tokens = 0; // calibration tokens used
    uint64_t                                 fixed_bytes = 0; // tensors kept as they are (norms, 1-D)
    std::vector<tensor_sensitivity>          tensors;      // the quantizable (2-D) tensors, file order
    std::map<std::string, std::vector<float>> imatrix;     // tensor -> mean x_c^2 per column
    double                                   seconds = 0.0; // wall time of the measurement
};

struct measure_params {
    int threads    = 2;
    int n_tokens   = 256; // calibration tokens (the text's first ones, BOS first when the model uses it)
    int validate_tensors = 0; // measure every candidate's KL for this many tensors (spread over the model)
    // The probe forwards' activation precision. `fast` puts a floor of a few 1e-3 nats under every
    // measured KL (Gemma 3 270M: a tensor requantized on its own grid measured 0.0028 instead of
    // ~0), which swamps the small tensors' real KL; `accurate` removes it for ~40% more time.
    activation_precision precision = activation_precision::accurate;
    // Called with (done, total, what); return false to cancel.
    std::function<bool(int, int, const std::string &)> progress;
};

quantize_measurement measure_sensitivity(const std::string & model_path, const std::string & calibration_text,
                                         const measure_params & params);

// The plannable tensors of a file and their candidates' sizes, with no error estimates (all 0) and
// no model run: enough for the fixed rules (plan_q4_k_m_rule, plan_uniform).
quantize_measurement describe_tensors(const std::string & model_path);

struct quantize_plan {
    std::map<std::string, std::string> type_of; // tensor -> type name
    uint64_t tensor_bytes = 0;                  // all tensors, fixed ones included
    double   estimated_kl = 0.0;                // sum of the chosen candidates' kl
    double   bits_per_weight = 0.0;             // over the planned tensors
};

// Minimises the sum of estimated KL subject to tensor_bytes <= budget_bytes (Lagrangian greedy over
// each tensor's lower convex hull of (bytes, kl)). Throws invalid_argument when even the cheapest
// types exceed the budget.
quantize_plan plan_for_budget(const quantize_measurement & m, uint64_t budget_bytes);
// Budget from bits per weight over the planned tensors' elements, plus the fixed tensors.
uint64_t budget_for_bpw(const quantize_measurement & m, double bpw);
// llama.cpp's fixed Q4_K_M rule (Q6_K for output/tied embeddings and for attn_v and ffn_down of
// the first and last eighth of the layers and every third in between, Q4_K elsewhere; rows that
// are not a multiple of 256 fall back to Q5_0 / Q8_0 as llama.cpp does), for comparison.
quantize_plan plan_q4_k_m_rule(const quantize_measurement & m, int n_layers);
// Every planned tensor in one type (with the same 256 -> 32 fallback).
quantize_plan plan_uniform(const quantize_measurement & m, const std::string & type);

// Sum of the tensor data bytes of a GGUF file (to match another file's size).
uint64_t gguf_tensor_bytes(const std::string & path);

struct write_params {
    int threads = 2;
    std::function<bool(int, int, const std::string &)> progress;
};

// Writes dst: src's metadata (general.file_type dropped: it would name the source's type), every tensor in its planned type (requantized from whatever type src holds,
// through f32), the others copied byte for byte. imatrix may be null.
void write_quantized(const std::string & src_path, const std::string & dst_path, const quantize_plan & plan,
                     const std::map<std::string, std::vector<float>> * imatrix, const write_params & params);

} // namespace v4
