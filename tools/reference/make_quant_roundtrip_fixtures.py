#!/usr/bin/env python3
"""Fixtures of tests/quantize/test_quant_roundtrip.cpp (acceptance 2 of docs/QUANTIZATION.md):
a file written by our quantizer, and the gguf package's f32 dequantization of it.

    python3 tools/reference/make_quant_roundtrip_fixtures.py --v4 BUILD/bin/v4 [--out tests/fixtures/quantize]

1. Writes a tiny random qwen3-arch model in F32 with gguf-py (n_embd 256, so that the K-quants
   apply; attn_output and ffn_down have 64-wide rows, so they take the 32-element fallbacks).
2. Runs `v4 quantize --rule q4_k_m` on it: q4_K, q6_K, q5_0 and q8_0 tensors in one file, written
   by engine/src/format/gguf_writer -> roundtrip-q4_k_m.gguf.
3. Reads that file with GGUFReader and dequantizes every tensor with gguf.quants.dequantize
   (check_quant_file.py) -> roundtrip-q4_k_m.gguf-py-f32.gguf.
The test loads both in our engine and requires the same logits (accurate activations).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import gguf
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_quant_file import dequantize_file  # noqa: E402

N_EMBD, N_HEAD, N_HEAD_KV, HEAD_DIM, N_FF, N_VOCAB = 256, 2, 1, 32, 64, 64


def write_tiny_qwen3(path: str, seed: int) -> None:
    rng = np.random.default_rng(seed)

    def mat(n_out, n_in, scale=1.0):  # numpy [n_out][n_in] = GGUF shape [n_in, n_out]
        return (rng.standard_normal((n_out, n_in)) * scale / np.sqrt(n_in)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    w = gguf.GGUFWriter(path, "qwen3")
    w.add_name("tiny random qwen3 for the quantization round trip")
    w.add_context_length(256)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(1)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(1e6)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_vocab_size(N_VOCAB)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tensor("token_embd.weight", mat(N_VOCAB, N_EMBD, 2.0 * np.sqrt(N_EMBD)))
    w.add_tensor("output_norm.weight", norm(N_EMBD))
    w.add_tensor("output.weight", mat(N_VOCAB, N_EMBD, 4.0))
    w.add_tensor("blk.0.attn_norm.weight", norm(N_EMBD))
    w.add_tensor("blk.0.attn_q.weight", mat(N_HEAD * HEAD_DIM, N_EMBD))
    w.add_tensor("blk.0.attn_k.weight", mat(N_HEAD_KV * HEAD_DIM, N_EMBD))
    w.add_tensor("blk.0.attn_v.weight", mat(N_HEAD_KV * HEAD_DIM, N_EMBD))
    w.add_tensor("blk.0.attn_output.weight", mat(N_EMBD, N_HEAD * HEAD_DIM))
    w.add_tensor("blk.0.attn_q_norm.weight", norm(HEAD_DIM))
    w.add_tensor("blk.0.attn_k_norm.weight", norm(HEAD_DIM))
    w.add_tensor("blk.0.ffn_norm.weight", norm(N_EMBD))
    w.add_tensor("blk.0.ffn_gate.weight", mat(N_FF, N_EMBD))
    w.add_tensor("blk.0.ffn_up.weight", mat(N_FF, N_EMBD))
    w.add_tensor("blk.0.ffn_down.weight", mat(N_EMBD, N_FF))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--v4", required=True, help="the v4 CLI (BUILD/bin/v4)")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.normpath(os.path.join(here, "..", "..", "tests", "fixtures", "quantize")))
    args = ap.parse_args()
    quant = os.path.join(args.out, "roundtrip-q4_k_m.gguf")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "tiny-qwen3-f32.gguf")
        write_tiny_qwen3(src, seed=8)
        subprocess.run([args.v4, "quantize", "-m", src, "-t", "1", "--rule", "q4_k_m", "--cache",
                        os.path.join(tmp, "none.json"), "-o", quant], check=True)
    types = dequantize_file(quant, quant + "-py-f32.gguf")
    assert {"Q4_K", "Q6_K", "Q5_0", "Q8_0"} <= set(types), types
    for p in (quant, quant + "-py-f32.gguf"):
        print(f"{os.path.basename(p)}: {os.path.getsize(p)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
