#!/usr/bin/env python3
"""Writes the llama-shape 246M benchmark model of issue 4 with random weights.

Shape: hidden 1024, 16 layers, 16 heads, 4 KV heads, FFN 2816, vocab 32000 (untied output), a
synthetic SentencePiece ("llama") vocabulary (specials, the 256 byte tokens, then unique pieces) so
the engine loads and tokenizes it. Weights are N(0, 0.02) from a fixed seed, so every run writes the
same files. Only the speed of such a model means anything; its text is noise.

Types (one file each): F16, Q8_0, Q4_0 (gguf-py's quantizers) and Q4_K_M, which is llama.cpp's mix:
Q6_K for output.weight and for attn_v/ffn_down of the "more bits" layers (first and last eighth and
every third between, llama.cpp's use_more_bits), Q4_K for every other matrix, token_embd included.
gguf-py has no Q4_K/Q6_K quantizer, so they are quantized here (min/max per sub-block, 6-bit or
8-bit sub-block scales against one f16 super-block scale) and checked by dequantizing with gguf-py.
Norm vectors are F32 in every file.

usage: make_llama_shape.py OUT_DIR [--types f16,q8_0,q4_0,q4_k_m]
"""
import argparse
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

N_EMBD, N_LAYER, N_HEAD, N_HEAD_KV, N_FF, N_VOCAB, N_CTX = 1024, 16, 16, 4, 2816, 32000, 4096
HEAD_DIM = N_EMBD // N_HEAD


def q4_k(x: np.ndarray) -> np.ndarray:
    """x [rows, n] f32 -> Q4_K blocks as uint8 [rows, n/256*144] (ggml's block_q4_K layout)."""
    rows, n = x.shape
    sb = x.reshape(-1, 8, 32).astype(np.float32)                     # super-blocks of 8 sub-blocks
    lo = np.minimum(sb.min(axis=2), 0.0)
    hi = sb.max(axis=2)
    scale = (hi - lo) / 15.0
    minv = -lo
    d = (scale.max(axis=1) / 63.0).astype(np.float16)
    dmin = (minv.max(axis=1) / 63.0).astype(np.float16)
    df = np.where(d.astype(np.float32) == 0, 1.0, d.astype(np.float32))[:, None]
    dmf = np.where(dmin.astype(np.float32) == 0, 1.0, dmin.astype(np.float32))[:, None]
    sc = np.clip(np.rint(scale / df), 0, 63).astype(np.uint8)
    mn = np.clip(np.rint(minv / dmf), 0, 63).astype(np.uint8)
    eff_d = (d.astype(np.float32)[:, None] * sc)[:, :, None]
    eff_m = (dmin.astype(np.float32)[:, None] * mn)[:, :, None]
    q = np.clip(np.rint((sb + eff_m) / np.where(eff_d == 0, 1.0, eff_d)), 0, 15).astype(np.uint8)
    scales = np.zeros((sb.shape[0], 12), np.uint8)
    scales[:, 0:4] = (sc[:, 0:4] & 63) | ((sc[:, 4:8] >> 4) << 6)
    scales[:, 4:8] = (mn[:, 0:4] & 63) | ((mn[:, 4:8] >> 4) << 6)
    scales[:, 8:12] = (sc[:, 4:8] & 15) | ((mn[:, 4:8] & 15) << 4)
    q = q.reshape(-1, 4, 2, 32)                                       # 64-value chunks: low, high nibbles
    qs = (q[:, :, 0, :] | (q[:, :, 1, :] << 4)).reshape(-1, 128)
    blocks = np.concatenate([d[:, None].view(np.uint8), dmin[:, None].view(np.uint8), scales, qs], axis=1)
    return blocks.reshape(rows, -1)


def q6_k(x: np.ndarray) -> np.ndarray:
    """x [rows, n] f32 -> Q6_K blocks as uint8 [rows, n/256*210] (ggml's block_q6_K layout)."""
    rows, n = x.shape
    sb = x.reshape(-1, 16, 16).astype(np.float32)
    amax_idx = np.abs(sb).argmax(axis=2)
    signed_max = np.take_along_axis(sb, amax_idx[:, :, None], axis=2)[:, :, 0]
    scale = signed_max / -32.0                                        # llama.cpp: the largest maps to -32
    amax_scale = np.take_along_axis(scale, np.abs(scale).argmax(axis=1)[:, None], axis=1)[:, 0]
    d = (amax_scale / -128.0).astype(np.float16)
    df = np.where(d.astype(np.float32) == 0, 1.0, d.astype(np.float32))[:, None]
    sc = np.clip(np.rint(scale / df), -128, 127).astype(np.int8)
    eff = (d.astype(np.float32)[:, None] * sc)[:, :, None]
    q = (np.clip(np.rint(sb / np.where(eff == 0, 1.0, eff)), -32, 31) + 32).astype(np.uint8).reshape(-1, 2, 4, 32)
    ql = np.concatenate([(q[:, :, 0] & 15) | ((q[:, :, 2] & 15) << 4), (q[:, :, 1] & 15) | ((q[:, :, 3] & 15) << 4)], axis=2)
    qh = (q[:, :, 0] >> 4) | ((q[:, :, 1] >> 4) << 2) | ((q[:, :, 2] >> 4) << 4) | ((q[:, :, 3] >> 4) << 6)
    blocks = np.concatenate([ql.reshape(-1, 128), qh.reshape(-1, 64), sc.view(np.uint8), d[:, None].view(np.uint8)], axis=1)
    return blocks.reshape(rows, -1)


def use_more_bits(il: int, n: int) -> bool:
    return il < n // 8 or il >= 7 * n // 8 or (il - n // 8) % 3 == 2


def quantize(x: np.ndarray, qtype: T) -> np.ndarray:
    if qtype == T.F16:
        return x.astype(np.float16)
    if qtype == T.Q4_K:
        return q4_k(x)
    if qtype == T.Q6_K:
        return q6_k(x)
    return quants.quantize(x, qtype)


def matrix_type(kind: str, name: str, il: int) -> T:
    if kind == "f16":
        return T.F16
    if kind == "q8_0":
        return T.Q8_0
    if kind == "q4_0":
        return T.Q6_K if name == "output" else T.Q4_0   # llama.cpp keeps output at Q6_K for Q4_0 too
    if name == "output" or (name in ("attn_v", "ffn_down") and use_more_bits(il, N_LAYER)):
        return T.Q6_K
    return T.Q4_K


def add_vocab(w: gguf.GGUFWriter) -> None:
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = 0
    while len(tokens) < N_VOCAB:
        piece, k = "", i
        while True:
            piece += letters[k % 26]
            k //= 26
            if k == 0:
                break
        tokens.append(("\u2581" if i % 2 == 0 else "") + piece)
        types.append(1)
        i += 1
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 3 + [0.0] * 256 + [-float(j) for j in range(N_VOCAB - 259)])
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)


def write(kind: str, out_dir: str) -> str:
    path = os.path.join(out_dir, f"llama-shape-246m-{kind}.gguf")
    rng = np.random.default_rng(246)
    w = gguf.GGUFWriter(path, "llama")
    w.add_name(f"llama-shape-246m-{kind}")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    add_vocab(w)

    def mat(name: str, gguf_name: str, n_out: int, n_in: int, il: int = -1) -> None:
        x = rng.standard_normal((n_out, n_in), dtype=np.float32) * 0.02
        qtype = matrix_type(kind, name, il)
        data = quantize(x, qtype)
        if qtype in (T.Q4_K, T.Q6_K):  # our own quantizers: check them against gguf-py's dequantizer
            err = np.abs(quants.dequantize(data[:4], qtype) - x[:4]).max()
            if not err < 0.2 * np.abs(x[:4]).max():
                sys.exit(f"{gguf_name}: {qtype.name} round trip error {err}")
        w.add_tensor(gguf_name, data, raw_dtype=qtype)

    def vec(gguf_name: str, n: int) -> None:
        w.add_tensor(gguf_name, np.ones(n, np.float32))

    kv_dim = N_HEAD_KV * HEAD_DIM
    mat("token_embd", "token_embd.weight", N_VOCAB, N_EMBD)
    vec("output_norm.weight", N_EMBD)
    mat("output", "output.weight", N_VOCAB, N_EMBD)
    for il in range(N_LAYER):
        p = f"blk.{il}."
        vec(p + "attn_norm.weight", N_EMBD)
        mat("attn_q", p + "attn_q.weight", N_EMBD, N_EMBD, il)
        mat("attn_k", p + "attn_k.weight", kv_dim, N_EMBD, il)
        mat("attn_v", p + "attn_v.weight", kv_dim, N_EMBD, il)
        mat("attn_output", p + "attn_output.weight", N_EMBD, N_EMBD, il)
        vec(p + "ffn_norm.weight", N_EMBD)
        mat("ffn_gate", p + "ffn_gate.weight", N_FF, N_EMBD, il)
        mat("ffn_up", p + "ffn_up.weight", N_FF, N_EMBD, il)
        mat("ffn_down", p + "ffn_down.weight", N_EMBD, N_FF, il)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--types", default="f16,q8_0,q4_0,q4_k_m")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for kind in args.types.split(","):
        if kind not in ("f16", "q8_0", "q4_0", "q4_k_m"):
            sys.exit(f"unknown type '{kind}' (f16, q8_0, q4_0, q4_k_m)")
        path = write(kind, args.out_dir)
        print(f"{path}: {os.path.getsize(path) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
