#!/usr/bin/env python3
"""Golden tokenizer fixtures from Hugging Face (transformers + tokenizers) for tests/tokenizer.

    python3 tools/reference/make_tokenizer_fixtures.py [--check-full gemma-3-270m-q4_k_m.gguf]

Reads the committed vocab-only GGUFs in tests/fixtures/tokenizer/ (made by extract_vocab_gguf.py),
loads each with AutoTokenizer.from_pretrained(dir, gguf_file=name), and writes, for every string of
tokenizer_strings.py:
  special   encode(s, add_special_tokens=False): control-token text becomes the token (HF default)
  plain     the same with split_special_tokens (encode_special_tokens=True): control text is plain text
  bos       encode(s, add_special_tokens=True)
  hf_roundtrip  whether HF's decode(special, skip_special_tokens=False) gives s back

One correction is applied to the DeepSeek-R1-Distill-Qwen vocabulary: transformers' GGUF loader skips
control tokens spelled with characters outside the byte-level alphabet (<｜User｜>, <｜begin▁of▁sentence｜>,
<｜end▁of▁sentence｜>, <｜Assistant｜>), calling them llama.cpp mislabels, and appends new ids for BOS/EOS.
In this model they are real added special tokens at those ids (the chat template emits them, and the
model's own tokenizer.json lists them), so they are registered back at their GGUF ids and the spurious
appended ones are dropped.

One correction is applied to SmolLM2 (tokenizer.ggml.pre = smollm): transformers' GGUF loader gives it a
plain ByteLevel pre-tokenizer, but the model's own tokenizer.json has Sequence[Digits(individual_digits),
ByteLevel], which is what llama.cpp's "smollm" stands for. The two differ only where a digit-class
character would merge with a neighbour (" ¾" is one token without the Digits stage), so the fixture uses
the model's real Sequence. Nothing else about HF's pipeline is changed.

    --only smollm2-135m-instruct.vocab.gguf   regenerates one vocabulary's expectations
"""
import argparse
import json
import os
import sys

import gguf
from tokenizers import Tokenizer, pre_tokenizers
from transformers import AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_strings import all_strings  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tokenizer")

VOCABS = [
    # (vocab file, expected file)
    ("gemma-3-270m.vocab.gguf", "expected-gemma-3-270m.json"),
    ("deepseek-r1-distill-qwen-7b.vocab.gguf", "expected-deepseek-r1-distill-qwen-7b.json"),
    ("smollm2-135m-instruct.vocab.gguf", "expected-smollm2-135m-instruct.json"),
]


def gguf_tokens(path):
    r = gguf.GGUFReader(path)
    f = r.fields["tokenizer.ggml.tokens"]
    tokens = [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    f = r.fields["tokenizer.ggml.token_type"]
    types = [int(f.parts[i][0]) for i in f.data]
    ids = {k: int(r.fields[k].parts[-1][0]) for k in r.fields if k.endswith("_token_id")}
    return tokens, types, ids


def gguf_bos(path):
    return gguf_tokens(path)[2].get("tokenizer.ggml.bos_token_id")


def restore_dropped_controls(backend, path):
    """Register control tokens HF's GGUF loader skipped, at their own ids (see the module docstring)."""
    tokens, types, ids = gguf_tokens(path)
    n = len(tokens)
    j = json.loads(backend.to_str())
    present = {a["content"] for a in j["added_tokens"] if a["id"] < n}
    j["added_tokens"] = [a for a in j["added_tokens"] if a["id"] < n]
    respelled = {v: k for k, v in j["model"]["vocab"].items()}
    for i, (t, ty) in enumerate(zip(tokens, types)):
        if ty == 3 and t not in present:
            # The model vocabulary must hold the token under its real text, or tokenizers gives it a new id.
            del j["model"]["vocab"][respelled[i]]
            j["model"]["vocab"][t] = i
            j["added_tokens"].append({"id": i, "content": t, "single_word": False, "lstrip": False,
                                      "rstrip": False, "normalized": False, "special": True})
    j["added_tokens"].sort(key=lambda a: a["id"])
    bos = tokens[ids["tokenizer.ggml.bos_token_id"]]
    pp = j.get("post_processor")
    if pp and pp.get("type") == "TemplateProcessing":
        pp["special_tokens"] = {bos: {"id": bos, "ids": [ids["tokenizer.ggml.bos_token_id"]], "tokens": [bos]}}
        for part in ("single", "pair"):
            for item in pp[part]:
                if "SpecialToken" in item:
                    item["SpecialToken"]["id"] = bos
    fixed = Tokenizer.from_str(json.dumps(j))
    for i, (t, ty) in enumerate(zip(tokens, types)):
        if ty == 3:
            assert fixed.encode(t, add_special_tokens=False).ids == [i], (t, i)
    return fixed


def gguf_pre(path):
    f = gguf.GGUFReader(path).fields.get("tokenizer.ggml.pre")
    return bytes(f.parts[f.data[0]]).decode("utf-8") if f else None


def load(path):
    tok = AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))
    backend = tok.backend_tokenizer
    if tok.convert_tokens_to_ids(tok.bos_token) != gguf_bos(path):
        backend = restore_dropped_controls(backend, path)
    if gguf_pre(path) == "smollm":
        backend.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    return tok, backend


def encode_all(backend, strings):
    cases = []
    for s in strings:
        backend.encode_special_tokens = False
        special = backend.encode(s, add_special_tokens=False).ids
        bos = backend.encode(s, add_special_tokens=True).ids
        backend.encode_special_tokens = True
        plain = backend.encode(s, add_special_tokens=False).ids
        backend.encode_special_tokens = False
        decoded = backend.decode(special, skip_special_tokens=False)
        cases.append({"special": special, "plain": plain, "bos": bos, "hf_roundtrip": decoded == s})
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check-full", action="append", default=[], metavar="VOCAB=MODEL",
                    help="also load MODEL (a full GGUF) and require identical ids to the vocab-only VOCAB")
    ap.add_argument("--only", metavar="VOCAB", help="regenerate only this vocab file's expectations")
    args = ap.parse_args()

    strings = all_strings()
    with open(os.path.join(FIXTURES, "strings.json"), "w", encoding="utf-8") as f:
        # ASCII escapes: some JSON readers drop a raw U+FEFF inside a string.
        json.dump(strings, f, ensure_ascii=True, indent=0)
        f.write("\n")

    results = {}
    for vocab, expected in VOCABS:
        if args.only and vocab != args.only:
            continue
        path = os.path.join(FIXTURES, vocab)
        tok, backend = load(path)
        cases = encode_all(backend, strings)
        results[vocab] = cases
        # The Python-level tokenizer must agree with its backend (it adds nothing on top for these).
        # (For SmolLM2 the backend carries the corrected pre-tokenizer, which the Python level shares.)
        mismatch = sum(tok.encode(s, add_special_tokens=False) != c["special"] for s, c in zip(strings, cases))
        out = {
            "vocab": vocab,
            "reference": "transformers AutoTokenizer.from_pretrained(gguf_file=...) backend (tokenizers)",
            "transformers_python_vs_backend_mismatches": mismatch,
            "cases": cases,
        }
        with open(os.path.join(FIXTURES, expected), "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        n_rt = sum(c["hf_roundtrip"] for c in cases)
        print(f"{vocab}: {len(cases)} strings, HF round-trips {n_rt}, python-vs-backend mismatches {mismatch}")

    for spec in args.check_full:
        vocab, model = spec.split("=", 1)
        _, backend = load(os.path.abspath(model))
        full = encode_all(backend, strings)
        same = sum(a == b for a, b in zip(full, results[vocab]))
        print(f"{model} vs {vocab}: {same}/{len(strings)} identical")
        if same != len(strings):
            sys.exit(1)


if __name__ == "__main__":
    main()
