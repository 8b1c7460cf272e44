#!/usr/bin/env python3
"""Tiny random-weight llama / qwen2 / qwen3 models and their transformers logits, for tests/model.

    python3 tools/reference/make_arch_fixtures.py [--out tests/fixtures/arch]

For each family we build a small Hugging Face model in fp32 with random weights (seeded), write it as
a GGUF with llama.cpp's tensor names and metadata keys (gguf-py's writer), and record what
transformers computes for a fixed token sequence: the logits at every position and a greedy
continuation. The engine must reproduce both (tests/model/test_arch_logits.cpp).

What each model exercises:
  llama   GQA (4 query heads, 2 kv heads), rope theta 50000, untied output, F16 matrices (the HF model
          gets the same fp16-rounded values), q/k rows permuted as llama.cpp's converter does
  qwen2   GQA, q/k/v biases, rope theta 1e6, tied embeddings, rms eps 1e-6, F32
  qwen3   GQA 4:1, per-head q/k RMSNorm, head_dim 32 != n_embd / n_head (attention.key_length),
          rope theta 1e6, untied output, F32

Files: NAME.gguf (< 200 KiB) and NAME.json: {"tokens": [...], "logits": [n_tokens * n_vocab floats],
"greedy": [ids after the tokens], "n_vocab", versions, config}.
"""
import argparse
import json
import os

import gguf
import numpy as np
import torch
import transformers

N_VOCAB = 128
N_TOKENS = 40
N_GREEDY = 16

FAMILIES = {
    "llama": dict(
        cls="LlamaForCausalLM", cfg="LlamaConfig", arch=gguf.MODEL_ARCH.LLAMA, dtype=np.float16,
        config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, rope_theta=50000.0, rms_norm_eps=1e-5, tie_word_embeddings=False)),
    "qwen2": dict(
        cls="Qwen2ForCausalLM", cfg="Qwen2Config", arch=gguf.MODEL_ARCH.QWEN2, dtype=np.float32,
        config=dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=True)),
    "qwen3": dict(
        cls="Qwen3ForCausalLM", cfg="Qwen3Config", arch=gguf.MODEL_ARCH.QWEN3, dtype=np.float32,
        config=dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=1, head_dim=32, rope_theta=1e6, rms_norm_eps=1e-6,
                    tie_word_embeddings=False)),
}


def permute(w, n_head):
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute: HF rotate_half pairs -> adjacent pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def build(name, spec, seed):
    torch.manual_seed(seed)
    cfg = getattr(transformers, spec["cfg"])(vocab_size=N_VOCAB, max_position_embeddings=256,
                                             attention_bias=name == "qwen2", **spec["config"])
    if name == "qwen2":
        cfg.use_sliding_window = False
    model = getattr(transformers, spec["cls"])(cfg).to(torch.float32).eval()
    # Random weights with some spread (HF's init gives near-uniform logits), norms around 1.
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif pname.endswith("bias"):
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / p.shape[-1] ** 0.5 * (2.0 if "embed" in pname else 1.0))
                if spec["dtype"] == np.float16:  # what the GGUF will hold
                    p.copy_(p.half().float())
    return cfg, model


def write_gguf(path, name, spec, cfg, model):
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    w = gguf.GGUFWriter(path, gguf.MODEL_ARCH_NAMES[spec["arch"]])
    arch = gguf.MODEL_ARCH_NAMES[spec["arch"]]
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    w.add_name(f"tiny random {name}")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_freq_base(cfg.rope_theta if hasattr(cfg, "rope_theta") else cfg.rope_parameters["rope_theta"])
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_vocab_size(N_VOCAB)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if spec["dtype"] == np.float16 else gguf.LlamaFileType.ALL_F32)

    def mat(a):
        return a.astype(spec["dtype"])

    w.add_tensor("token_embd.weight", mat(sd["model.embed_tokens.weight"]))
    w.add_tensor("output_norm.weight", sd["model.norm.weight"])
    if not cfg.tie_word_embeddings:
        w.add_tensor("output.weight", mat(sd["lm_head.weight"]))
    for il in range(cfg.num_hidden_layers):
        p = f"model.layers.{il}."
        q, k = sd[p + "self_attn.q_proj.weight"], sd[p + "self_attn.k_proj.weight"]
        if name == "llama":
            q, k = permute(q, cfg.num_attention_heads), permute(k, cfg.num_key_value_heads)
        w.add_tensor(f"blk.{il}.attn_norm.weight", sd[p + "input_layernorm.weight"])
        w.add_tensor(f"blk.{il}.attn_q.weight", mat(q))
        w.add_tensor(f"blk.{il}.attn_k.weight", mat(k))
        w.add_tensor(f"blk.{il}.attn_v.weight", mat(sd[p + "self_attn.v_proj.weight"]))
        w.add_tensor(f"blk.{il}.attn_output.weight", mat(sd[p + "self_attn.o_proj.weight"]))
        if name == "qwen2":
            for t in "qkv":
                w.add_tensor(f"blk.{il}.attn_{t}.bias", sd[p + f"self_attn.{t}_proj.bias"])
        if name == "qwen3":
            w.add_tensor(f"blk.{il}.attn_q_norm.weight", sd[p + "self_attn.q_norm.weight"])
            w.add_tensor(f"blk.{il}.attn_k_norm.weight", sd[p + "self_attn.k_norm.weight"])
        w.add_tensor(f"blk.{il}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"])
        w.add_tensor(f"blk.{il}.ffn_gate.weight", mat(sd[p + "mlp.gate_proj.weight"]))
        w.add_tensor(f"blk.{il}.ffn_up.weight", mat(sd[p + "mlp.up_proj.weight"]))
        w.add_tensor(f"blk.{il}.ffn_down.weight", mat(sd[p + "mlp.down_proj.weight"]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    assert arch == w.arch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                                  "fixtures", "arch"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    rng = np.random.default_rng(7)
    tokens = [int(t) for t in rng.integers(0, N_VOCAB, N_TOKENS)]
    for seed, (name, spec) in enumerate(FAMILIES.items()):
        cfg, model = build(name, spec, 1000 + seed)
        write_gguf(os.path.join(args.out, f"tiny-{name}.gguf"), name, spec, cfg, model)
        with torch.no_grad():
            logits = model(torch.tensor([tokens]), use_cache=False).logits[0]
            ids = torch.tensor([tokens])
            greedy, margins = [], []
            for _ in range(N_GREEDY):  # greedy without the KV cache: each step recomputes everything
                last = model(ids, use_cache=False).logits[0, -1]
                top2 = torch.topk(last, 2).values
                margins.append(float(top2[0] - top2[1]))
                nxt = int(torch.argmax(last))
                greedy.append(nxt)
                ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
        out = {
            "model": f"tiny-{name}.gguf",
            "reference": f"transformers {transformers.__version__} {spec['cls']} fp32, torch {torch.__version__}",
            "config": cfg.to_diff_dict(),
            "n_vocab": N_VOCAB,
            "tokens": tokens,
            "logits": [round(float(v), 7) for v in logits.flatten()],
            "greedy": greedy,
            "greedy_min_top2_margin": min(margins),
        }
        with open(os.path.join(args.out, f"tiny-{name}.json"), "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        size = os.path.getsize(os.path.join(args.out, f"tiny-{name}.gguf"))
        print(f"tiny-{name}: {size} bytes, logits std {float(logits.std()):.3f}, greedy {greedy}, "
              f"min top-2 margin {min(margins):.4f}")


if __name__ == "__main__":
    main()
