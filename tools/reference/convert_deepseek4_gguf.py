#!/usr/bin/env python3
"""Convert a DeepSeek-V4 transformers checkpoint (config.json + model.safetensors, HF names, as
written by DeepseekV4ForCausalLM.save_pretrained) to GGUF with llama.cpp's `deepseek4` keys and
tensor names.

Names follow llama.cpp's converter (conversion/deepseek.py, class DeepseekV4Model) and its loader
(src/models/deepseek4.cpp) as collected in shared/research/v4_architecture.md §3 and §9, checked
against the `deepseek4.*` keys and `blk.N.*` tensor list that third-party GGUF readers of the
released V4-Flash GGUFs expect. The engine's side of the same table is
engine/src/models/deepseek4/deepseek4_gguf.cpp (k_gguf_names).

Tensors keep PyTorch order here; gguf-py reverses the dims to ggml's ne order. Routed experts are
split from HF's fused gate_up_proj [E, 2I, D] into ffn_gate_exps / ffn_up_exps [E, I, D].

The tiny fixtures have no tokenizer; the converter adds a byte-level "gpt2" vocabulary of
vocab_size tokens so a tokenizer (and `v4 inspect`) can open the file: GPT-2's byte table, whose
last few entries give way to a handful of merged tokens ("th", "he", "the", ...) with their merges,
since a "gpt2" vocabulary without merges is rejected. The dropped bytes are high non-ASCII ones.

    python tools/reference/convert_deepseek4_gguf.py tests/fixtures/deepseek4/mixed4 out.gguf [--type f32|f16]
"""
import argparse
import json
import os

import gguf
import numpy as np
from safetensors.numpy import load_file

ARCH = "deepseek4"

# HF name (under model.layers.L.) -> GGUF name (under blk.L.)
LAYER_NAMES = {
    "attn_hc.fn": "hc_attn_fn.weight",
    "attn_hc.base": "hc_attn_base.weight",
    "attn_hc.scale": "hc_attn_scale.weight",
    "ffn_hc.fn": "hc_ffn_fn.weight",
    "ffn_hc.base": "hc_ffn_base.weight",
    "ffn_hc.scale": "hc_ffn_scale.weight",
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_a_proj.weight": "attn_q_a.weight",
    "self_attn.q_a_norm.weight": "attn_q_a_norm.weight",
    "self_attn.q_b_proj.weight": "attn_q_b.weight",
    "self_attn.kv_proj.weight": "attn_kv.weight",
    "self_attn.kv_norm.weight": "attn_kv_a_norm.weight",
    "self_attn.o_a_proj.weight": "attn_output_a.weight",
    "self_attn.o_b_proj.weight": "attn_output_b.weight",
    "self_attn.sinks": "attn_sinks.weight",
    "self_attn.compressor.kv_proj.weight": "attn_compressor_kv.weight",
    "self_attn.compressor.gate_proj.weight": "attn_compressor_gate.weight",
    "self_attn.compressor.position_bias": "attn_compressor_ape.weight",
    "self_attn.compressor.kv_norm.weight": "attn_compressor_norm.weight",
    "self_attn.compressor.indexer.q_b_proj.weight": "indexer.attn_q_b.weight",
    "self_attn.compressor.indexer.scorer.weights_proj.weight": "indexer.proj.weight",
    "self_attn.compressor.indexer.kv_proj.weight": "indexer_compressor_kv.weight",
    "self_attn.compressor.indexer.gate_proj.weight": "indexer_compressor_gate.weight",
    "self_attn.compressor.indexer.position_bias": "indexer_compressor_ape.weight",
    "self_attn.compressor.indexer.kv_norm.weight": "indexer_compressor_norm.weight",
    "mlp.gate.weight": "ffn_gate_inp.weight",
    "mlp.gate.e_score_correction_bias": "exp_probs_b.bias",
    "mlp.gate.tid2eid": "ffn_gate_tid2eid.weight",
    "mlp.experts.down_proj": "ffn_down_exps.weight",
    "mlp.shared_experts.gate_proj.weight": "ffn_gate_shexp.weight",
    "mlp.shared_experts.up_proj.weight": "ffn_up_shexp.weight",
    "mlp.shared_experts.down_proj.weight": "ffn_down_shexp.weight",
}
GLOBAL_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
    "model.hc_head.hc_fn": "output_hc_fn.weight",
    "model.hc_head.hc_base": "output_hc_base.weight",
    "model.hc_head.hc_scale": "output_hc_scale.weight",
}
ATTN_RATIO = {"sliding_attention": 0}


def byte_vocab():
    """GPT-2's byte-to-unicode table: 256 printable characters, one per byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


# A few English merges, in rank order; each joined token takes one of the vocabulary's last slots.
STAND_IN_MERGES = [("t", "h"), ("h", "e"), ("i", "n"), ("e", "r"), ("a", "n"), ("th", "e"), ("o", "n"), ("r", "e")]


def stand_in_vocab(n_vocab):
    """(tokens, merges): byte tokens, then <tN> fillers beyond 256, with the last slots merged tokens."""
    tokens = (byte_vocab() + [f"<t{i}>" for i in range(256, n_vocab)])[:n_vocab]
    merged = [a + b for a, b in STAND_IN_MERGES]
    tokens[n_vocab - len(merged):] = merged
    for a, b in STAND_IN_MERGES:
        assert a in tokens and b in tokens, (a, b)
    return tokens, [f"{a} {b}" for a, b in STAND_IN_MERGES]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", help="directory with config.json and model.safetensors")
    ap.add_argument("out", help="output .gguf")
    ap.add_argument("--type", choices=["f32", "f16"], default="f32", help="storage of matrices (norms, biases stay f32)")
    args = ap.parse_args()

    cfg = json.load(open(os.path.join(args.src, "config.json")))
    st = load_file(os.path.join(args.src, "model.safetensors"))
    n_layers = cfg["num_hidden_layers"]
    rates = cfg.get("compress_rates", {})
    csa, hca = rates.get("compressed_sparse_attention", 4), rates.get("heavily_compressed_attention", 128)
    ratio_of = {"sliding_attention": 0, "compressed_sparse_attention": csa, "heavily_compressed_attention": hca}
    ratios = [ratio_of[t] for t in cfg["layer_types"]]
    mlp = cfg["mlp_layer_types"]
    n_hash = sum(1 for t in mlp if t == "hash_moe")
    if mlp != ["hash_moe"] * n_hash + ["moe"] * (n_layers - n_hash):
        raise SystemExit("hash layers must come first (GGUF has only hash_layer_count)")
    head_dim = cfg["head_dim"]
    rope_dim = cfg.get("qk_rope_head_dim") or int(head_dim * cfg["partial_rotary_factor"])
    rp = cfg.get("rope_parameters", {})
    main, comp = rp.get("main", {}), rp.get("compress", {})

    w = gguf.GGUFWriter(args.out, ARCH)
    w.add_name(os.path.basename(os.path.normpath(args.src)))
    k = lambda s: f"{ARCH}.{s}"
    u32 = lambda key, v: w.add_uint32(k(key), int(v))
    f32 = lambda key, v: w.add_float32(k(key), float(v))
    u32("context_length", cfg["max_position_embeddings"])
    u32("embedding_length", cfg["hidden_size"])
    u32("block_count", n_layers)
    u32("vocab_size", cfg["vocab_size"])
    u32("attention.head_count", cfg["num_attention_heads"])
    u32("attention.head_count_kv", 1)
    u32("attention.key_length", head_dim)
    u32("attention.value_length", head_dim)
    u32("rope.dimension_count", rope_dim)
    u32("attention.q_lora_rank", cfg["q_lora_rank"])
    u32("attention.output_lora_rank", cfg["o_lora_rank"])
    u32("attention.output_group_count", cfg["o_groups"])
    w.add_array(k("attention.compress_ratios"), ratios)
    f32("attention.compress_rope_freq_base", comp.get("rope_theta", cfg.get("compress_rope_theta", 160000.0)))
    u32("attention.sliding_window", cfg["sliding_window"])
    u32("attention.indexer.head_count", cfg["index_n_heads"])
    u32("attention.indexer.key_length", cfg["index_head_dim"])
    u32("attention.indexer.top_k", cfg["index_topk"])
    f32("attention.layer_norm_rms_epsilon", cfg["rms_norm_eps"])
    u32("expert_count", cfg["n_routed_experts"])
    u32("expert_used_count", cfg["num_experts_per_tok"])
    u32("expert_shared_count", cfg.get("n_shared_experts", 1))
    u32("expert_feed_forward_length", cfg["moe_intermediate_size"])
    f32("expert_weights_scale", cfg["routed_scaling_factor"])
    w.add_bool(k("expert_weights_norm"), bool(cfg.get("norm_topk_prob", True)))
    u32("hash_layer_count", n_hash)
    w.add_array(k("swiglu_clamp_exp"), [float(cfg["swiglu_limit"])] * n_layers)
    u32("hyper_connection.count", cfg["hc_mult"])
    u32("hyper_connection.sinkhorn_iterations", cfg.get("hc_sinkhorn_iters", 20))
    f32("hyper_connection.epsilon", cfg.get("hc_eps", 1e-6))
    f32("rope.freq_base", main.get("rope_theta", cfg.get("rope_theta", 10000.0)))
    if comp.get("rope_type") == "yarn":
        w.add_string(k("rope.scaling.type"), "yarn")
        f32("rope.scaling.factor", comp["factor"])
        u32("rope.scaling.original_context_length", comp["original_max_position_embeddings"])
        f32("rope.scaling.yarn_beta_fast", comp.get("beta_fast", 32.0))
        f32("rope.scaling.yarn_beta_slow", comp.get("beta_slow", 1.0))
        f32("rope.scaling.attn_factor", comp.get("attention_factor", 1.0))

    n_vocab = cfg["vocab_size"]
    vocab, merges = stand_in_vocab(n_vocab)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(vocab)
    w.add_token_merges(merges)
    w.add_token_types([gguf.TokenType.NORMAL] * len(vocab))
    w.add_bos_token_id(cfg.get("bos_token_id", 0))
    w.add_eos_token_id(cfg.get("eos_token_id", 1))

    def put(name, arr):
        if arr.dtype == np.int64:
            arr = arr.astype(np.int32)
        elif args.type == "f16" and arr.ndim >= 2 and "hc_" not in name and "_ape" not in name:
            arr = arr.astype(np.float16)  # matrices only; mHC and position biases stay f32 (as released)
        w.add_tensor(name, np.ascontiguousarray(arr))

    for hf, name in GLOBAL_NAMES.items():
        if hf in st:
            put(name, st[hf])
    for il in range(n_layers):
        pre = f"model.layers.{il}."
        for hf, name in LAYER_NAMES.items():
            if pre + hf in st:
                put(f"blk.{il}.{name}", st[pre + hf])
        gate_up = st[pre + "mlp.experts.gate_up_proj"]  # [E, 2I, D]: gate rows, then up rows
        inter = gate_up.shape[1] // 2
        put(f"blk.{il}.ffn_gate_exps.weight", gate_up[:, :inter, :])
        put(f"blk.{il}.ffn_up_exps.weight", gate_up[:, inter:, :])

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
