#!/usr/bin/env python3
"""Golden fixtures for the engine's DeepSeek-V4 reference forward (engine/src/models/deepseek4/).

For each tiny config below this script builds transformers' DeepseekV4ForCausalLM with random fp32
weights (torch CPU, fixed seeds), randomises every parameter that transformers initialises to a
constant (norm weights, mHC base/scale, sinks, compressor position biases, router correction bias,
hash table) so that every path changes the output, and writes into tests/fixtures/deepseek4/<name>/:

  model.safetensors     the state dict, fp32 (tid2eid as I64), HF names
  config.json           the HF config (save_pretrained)
  expected.safetensors  input_ids  I32 [T]          prompt, T = 300 (> 2 * 128 so HCA windows close)
                        logits     F32 [T, vocab]   prefill logits for every position
                        continuation I32 [64]       greedy tokens after the prompt, each one from a
                                                    stateless full forward of prompt + tokens so far
                        margins    F32 [64]         top1 - top2 logit at each greedy step

Reference: transformers 5.23.0, models/deepseek_v4/modeling_deepseek_v4.py.
Run: python tools/reference/make_deepseek4_fixtures.py   (about a minute on CPU)
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import DeepseekV4Config, DeepseekV4ForCausalLM
from transformers.models.deepseek_v4 import modeling_deepseek_v4 as dsv4

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "deepseek4")
PROMPT_LEN = 300
N_CONTINUE = 64

CONFIGS = {
    # 4 layers: SWA, CSA, HCA, CSA; two hash-routed MoE layers then two learned-routed ones; 4 streams;
    # YaRN compress rope.
    "mixed4": dict(
        seed=1234,
        vocab_size=256, hidden_size=64, moe_intermediate_size=32, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=1, head_dim=32, q_lora_rank=32,
        partial_rotary_factor=0.5, num_experts_per_tok=2, n_routed_experts=6, n_shared_experts=1,
        routed_scaling_factor=1.5, rope_theta=10000.0, compress_rope_theta=160000.0,
        layer_types=["sliding_attention", "compressed_sparse_attention",
                     "heavily_compressed_attention", "compressed_sparse_attention"],
        mlp_layer_types=["hash_moe", "hash_moe", "moe", "moe"],
        hc_mult=4, hc_sinkhorn_iters=20, hc_eps=1e-6, swiglu_limit=1.0, sliding_window=32,
        o_groups=2, o_lora_rank=32, index_n_heads=8, index_head_dim=32, index_topk=8,
        rms_norm_eps=1e-6, max_position_embeddings=4096,
        # YaRN on the compressed layers as in the release (factor 16), with a short original length
        # so the ramp between interpolated and extrapolated pairs falls inside the 8 rope pairs.
        rope_parameters={"rope_type": "yarn", "factor": 16.0, "original_max_position_embeddings": 256,
                         "beta_fast": 32.0, "beta_slow": 1.0},
    ),
    # 3 layers: HCA first (V4-Pro style bootstrap), CSA, SWA; one hash layer; 2 streams; other dims;
    # plain (non-YaRN) rope on the compressed layers.
    "hca_first3": dict(
        seed=99,
        vocab_size=192, hidden_size=96, moe_intermediate_size=24, num_hidden_layers=3,
        num_attention_heads=2, num_key_value_heads=1, head_dim=48, q_lora_rank=40,
        partial_rotary_factor=1.0 / 3.0, num_experts_per_tok=3, n_routed_experts=6, n_shared_experts=1,
        routed_scaling_factor=2.0, rope_theta=10000.0, compress_rope_theta=40000.0,
        layer_types=["heavily_compressed_attention", "compressed_sparse_attention", "sliding_attention"],
        mlp_layer_types=["hash_moe", "moe", "moe"],
        hc_mult=2, hc_sinkhorn_iters=10, hc_eps=1e-6, swiglu_limit=0.75, sliding_window=48,
        o_groups=2, o_lora_rank=24, index_n_heads=16, index_head_dim=16, index_topk=12,
        rms_norm_eps=1e-5, max_position_embeddings=4096,
    ),
}


# The indexer's top-k is only reproducible when the k-th and (k+1)-th scores differ: sum_h w_h *
# ReLU(q_h . k) is exactly 0 whenever every head's ReLU clips, and torch.topk breaks such ties in an
# unspecified order. Count boundary ties in every forward so a fixture never depends on them.
BOUNDARY_TIES = [0]
_scorer_forward = dsv4.DeepseekV4IndexerScorer.forward


def _checked_scorer_forward(self, q, compressed_kv, hidden_states):
    scores = _scorer_forward(self, q, compressed_kv, hidden_states)  # [B, S, T]
    ratio, topk = self.check_ratio, self.check_topk
    for t in range(scores.shape[1]):
        ready = (t + 1) // ratio
        if ready > topk:
            top = scores[0, t, :ready].sort(descending=True).values
            if float(top[topk - 1] - top[topk]) < 1e-6:
                BOUNDARY_TIES[0] += 1
    return scores


dsv4.DeepseekV4IndexerScorer.forward = _checked_scorer_forward


def randomise(model, cfg, gen):
    """Give every constant-initialised parameter / buffer a random value so each path is live."""
    def rnd(t, mean, std):
        with torch.no_grad():
            t.copy_(torch.randn(t.shape, generator=gen) * std + mean)

    for name, p in model.named_parameters():
        if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
            rnd(p, 1.0, 0.2)
        elif name.endswith(".sinks"):
            rnd(p, 0.0, 1.0)
        elif name.endswith("position_bias"):
            rnd(p, 0.0, 0.5)
        elif name.endswith("hc.base") or name.endswith("hc_head.hc_base"):
            rnd(p, 0.0, 0.5)
        elif name.endswith("hc.scale") or name.endswith("hc_head.hc_scale"):
            rnd(p, 1.0, 0.3)
        elif name.endswith("hc.fn") or name.endswith("hc_head.hc_fn"):
            rnd(p, 0.0, 0.2)
        elif "experts" in name or name.endswith("gate.weight"):
            rnd(p, 0.0, 0.15)
        elif name.endswith("embed_tokens.weight"):
            rnd(p, 0.0, 1.0)
        else:
            rnd(p, 0.0, 0.12)
    for name, b in model.named_buffers():
        if name.endswith("e_score_correction_bias"):
            with torch.no_grad():
                b.copy_(torch.randn(b.shape, generator=gen) * 0.1)
        elif name.endswith("tid2eid"):
            n_exp, k = cfg["n_routed_experts"], cfg["num_experts_per_tok"]
            rows = [torch.randperm(n_exp, generator=gen)[:k] for _ in range(b.shape[0])]
            with torch.no_grad():
                b.copy_(torch.stack(rows).to(b.dtype))


def build(name, spec):
    spec = dict(spec)
    seed = spec.pop("seed")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    config = DeepseekV4Config(**spec, tie_word_embeddings=False, bos_token_id=0, eos_token_id=1)
    config._attn_implementation = "eager"
    model = DeepseekV4ForCausalLM(config).float().eval()
    randomise(model, spec, gen)
    for module in model.modules():
        if isinstance(module, dsv4.DeepseekV4IndexerScorer):
            module.check_ratio = config.compress_rates["compressed_sparse_attention"]
            module.check_topk = config.index_topk
    return model, config, gen


@torch.no_grad()
def make(name, spec):
    model, config, gen = build(name, spec)
    BOUNDARY_TIES[0] = 0
    out_dir = os.path.join(OUT, name)
    os.makedirs(out_dir, exist_ok=True)

    ids = torch.randint(2, config.vocab_size, (1, PROMPT_LEN), generator=gen)
    logits = model(input_ids=ids, use_cache=False).logits[0].float()  # [T, V]

    # Greedy continuation with stateless full forwards (what the engine's prefill-only path does).
    seq = ids.clone()
    cont, margins = [], []
    for _ in range(N_CONTINUE):
        last = model(input_ids=seq, use_cache=False).logits[0, -1].float()
        top2 = last.topk(2)
        cont.append(int(top2.indices[0]))
        margins.append(float(top2.values[0] - top2.values[1]))
        seq = torch.cat([seq, top2.indices[:1].view(1, 1)], dim=1)

    if BOUNDARY_TIES[0]:
        raise SystemExit(f"{name}: {BOUNDARY_TIES[0]} indexer top-k boundary ties; pick another seed")

    # Same continuation through transformers' cache path (compressor state carried), for the notes.
    gen_ids = model.generate(input_ids=ids, max_new_tokens=N_CONTINUE, do_sample=False, use_cache=True,
                             min_new_tokens=N_CONTINUE, eos_token_id=None, pad_token_id=0)
    cached = gen_ids[0, PROMPT_LEN:].tolist()

    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(out_dir)
    save_file({
        "input_ids": ids[0].to(torch.int32).contiguous(),
        "logits": logits.contiguous(),
        "continuation": torch.tensor(cont, dtype=torch.int32),
        "margins": torch.tensor(margins, dtype=torch.float32),
    }, os.path.join(out_dir, "expected.safetensors"))

    sizes = {f: os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir)}
    agree = sum(a == b for a, b in zip(cont, cached))
    print(f"{name}: layers={config.layer_types} mlp={config.mlp_layer_types}")
    print(f"  files={sizes}  total={sum(sizes.values())} bytes")
    print(f"  logits |max|={logits.abs().max():.4f} std={logits.std():.4f} min greedy margin={min(margins):.5f}")
    print(f"  cached generate agrees with stateless greedy on {agree}/{N_CONTINUE} tokens")
    return {"name": name, "min_margin": min(margins), "cache_agree": agree}


def main():
    names = sys.argv[1:] or list(CONFIGS)
    summary = [make(n, CONFIGS[n]) for n in names]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
