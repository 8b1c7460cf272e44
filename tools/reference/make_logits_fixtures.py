#!/usr/bin/env python3
"""Golden logits for the engine's real-model tests, computed by an independent implementation.

transformers loads the SAME GGUF file the engine loads (it dequantizes every tensor to fp32 with
gguf-py), runs the model in fp32 on the CPU over a fixed English text, and we store, per position:
the top-1 token id, the log-sum-exp of the logits, and the 32 largest log-probabilities (ids and
values). The token ids themselves are stored too, so the C++ test does not depend on a tokenizer.

Usage:
    tools/reference/make_logits_fixtures.py [--model PATH] [--out tests/fixtures/logits/NAME.bin] [--max-tokens N]

SmolLM2 (tests/model/test_smollm2_logits.cpp):
    tools/reference/make_logits_fixtures.py --model SmolLM2-135M-Instruct.Q4_1.gguf --max-tokens 512 \
        --out tests/fixtures/arch/smollm2-135m-instruct-q4_1.logits.bin

File format (little endian), read by tests/model/logits_fixture.h:
    char     magic[4] = "V4LG"
    uint32   version = 1
    uint32   n_tokens, top_k, vocab_size
    int32    tokens[n_tokens]
    per position p in [0, n_tokens):
        int32    top1
        float32  lse                     log(sum(exp(logits)))
        int32    ids[top_k]              descending by log-probability
        float32  logprobs[top_k]         logits[id] - lse
A JSON sidecar (same name, .json) records the model's SHA-256, the library versions and the text.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import torch

TEXT = """The lighthouse keeper had lived on the island for thirty-one years, and in all that time he had \
never once missed lighting the lamp. Every evening, a little before sunset, he climbed the one hundred and \
twelve steps of the spiral staircase, checked the wick, polished the great lens with a soft cloth, and waited \
for the exact moment when the sky turned from gold to grey. Ships that passed the rocks at night depended on \
him, although most of their crews would never know his name.

In the early years he had kept a journal. He wrote down the weather, the direction of the wind, the number of \
vessels he saw, and anything unusual that washed up on the narrow beach below the cliffs: a glass float from a \
fishing net, a wooden crate stamped with the name of a distant port, once even a small rowing boat with no one \
inside it. Later the entries grew shorter, and then they stopped altogether, because the days had begun to \
resemble one another so closely that there seemed to be nothing left to record.

Everything changed on a cold morning in late October, when a supply boat arrived three days early. Instead of \
the usual sacks of flour and tins of paraffin, it carried a single passenger: a young woman in a green coat, \
holding a leather case and a letter from the harbour authority. The letter explained that the lighthouse was \
to be converted to automatic operation within a year, and that the bearer, an engineer named Clara Hughes, \
would survey the tower and prepare the necessary plans.

The keeper read the letter twice, folded it carefully, and put it in his pocket. He did not say much that first \
day. He showed her the storeroom, the generator shed, and the small room at the top of the house where she \
could sleep. In the evening he climbed the staircase as always, and she followed him, counting the steps under \
her breath and taking notes in a notebook with a pencil that she sharpened with a pocket knife.

Over the following weeks they settled into an unexpected routine. In the mornings Clara measured walls, tested \
the old wiring, and sketched diagrams of the mechanism that turned the lens. In the afternoons she asked \
questions, and the keeper, who had not talked to anyone for so long, found that he enjoyed answering them. He \
explained how the clockwork had to be wound every four hours, how salt crept into every joint, and how the \
light itself seemed to change character with the seasons, brighter and harder in winter, softer in the long \
summer dusk.

One night a storm came in from the west faster than either of them expected. The wind rose to a scream, waves \
broke over the lower rocks, and shortly after midnight the power failed. The keeper lit the old oil lamp that \
he had kept in reserve for decades, and together they turned the lens by hand, taking turns at the heavy crank \
until dawn. When the sky finally grew pale, they could see a cargo ship far to the south, safely past the \
reef, its lights still burning.

In her final report Clara recommended that the automatic system should be installed, as planned, but she added \
a paragraph that nobody at the harbour authority had asked for. She wrote that a machine could turn a lens and \
switch on a lamp, but that it could not notice when something was wrong, and that the island should never be \
left entirely alone. The following spring, when the new equipment arrived, the keeper was offered a position \
as its caretaker. He accepted, and he began, once again, to write in his journal."""


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    default_model = os.path.expanduser("~/.local/share/v4chat/models/gemma-3-270m-q4_k_m.gguf")
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "..", "tests", "fixtures", "logits", "gemma-3-270m-q4_k_m.bin")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=default_model)
    ap.add_argument("--out", default=default_out)
    ap.add_argument("--top-k", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=0, help="keep only the first N tokens of the text (0: all)")
    args = ap.parse_args()

    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    model_dir, model_name = os.path.split(os.path.abspath(args.model))
    tokenizer = AutoTokenizer.from_pretrained(model_dir, gguf_file=model_name)
    model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=model_name, dtype=torch.float32)
    model.eval()
    print(model.config, file=sys.stderr)

    ids = tokenizer(TEXT, add_special_tokens=True)["input_ids"]
    if args.max_tokens:
        ids = ids[:args.max_tokens]
    print(f"{len(ids)} tokens, first {ids[:8]}", file=sys.stderr)
    with torch.no_grad():
        out = model(torch.tensor([ids], dtype=torch.long), use_cache=False)
    logits = out.logits[0].to(torch.float64)  # [n_tokens, vocab]
    lse = torch.logsumexp(logits, dim=-1)
    logprobs = logits - lse[:, None]
    top_vals, top_ids = torch.topk(logprobs, args.top_k, dim=-1)
    n_tokens, vocab = logits.shape

    with open(args.out, "wb") as f:
        f.write(b"V4LG")
        f.write(struct.pack("<IIII", 1, n_tokens, args.top_k, vocab))
        f.write(np.asarray(ids, dtype="<i4").tobytes())
        for p in range(n_tokens):
            f.write(struct.pack("<if", int(top_ids[p, 0]), float(lse[p])))
            f.write(top_ids[p].numpy().astype("<i4").tobytes())
            f.write(top_vals[p].numpy().astype("<f4").tobytes())

    meta = {
        "model_file": model_name,
        "model_sha256": sha256_of(args.model),
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "dtype": "float32 (GGUF dequantized by gguf-py)",
        "n_tokens": n_tokens,
        "top_k": args.top_k,
        "vocab_size": vocab,
        "text": TEXT,
        "max_tokens": args.max_tokens or None,
    }
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}: {n_tokens} positions, top-{args.top_k}", file=sys.stderr)


if __name__ == "__main__":
    main()
