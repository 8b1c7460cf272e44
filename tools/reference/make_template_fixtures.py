#!/usr/bin/env python3
"""Golden outputs for v4::chat_template (tests/template/test_chat_template.cpp).

Renders every tests/fixtures/templates/<name>.jinja over a fixed set of conversations with transformers' own
chat-template renderer (jinja2 ImmutableSandboxedEnvironment, trim_blocks and lstrip_blocks, its tojson,
raise_exception and strftime_now) and writes tests/fixtures/templates/<name>.golden.json:

    {"template": "<name>.jinja", "cases": [{"name", "messages", "add_generation_prompt", "enable_thinking",
      "bos_token", "eos_token", "extra", "expected" | "error"}]}

"error" holds the raise_exception message when the template rejects the conversation.
Usage: python3 tools/reference/make_template_fixtures.py [--out tests/fixtures/templates]
"""

import argparse
import json
import pathlib

import jinja2
from transformers.utils.chat_template_utils import render_jinja_template

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Special tokens as each model's tokenizer_config.json declares them (Qwen declares no bos_token).
TEMPLATES = {
    "gemma3": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "qwen2.5-instruct": {"bos_token": None, "eos_token": "<|im_end|>"},
    "qwen3": {"bos_token": None, "eos_token": "<|im_end|>"},
    "llama3.1-instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "deepseek-r1-distill-qwen": {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"},
}


def msg(role, content, reasoning=None):
    m = {"role": role, "content": content}
    if reasoning:
        m["reasoning_content"] = reasoning
    return m


CONVERSATIONS = {
    "single_user": [msg("user", "Hello!")],
    "system_multi_turn": [
        msg("system", "You are a helpful assistant."),
        msg("user", "What is 2+2?"),
        msg("assistant", "2+2 is 4."),
        msg("user", "And 3+3?"),
    ],
    "assistant_reasoning_last": [
        msg("user", "Why is the sky blue?"),
        msg("assistant", "Because of Rayleigh scattering.", "The user asks about the colour of the sky.\nRecall physics."),
    ],
    "assistant_reasoning_mid": [
        msg("system", "Think step by step."),
        msg("user", "Is 17 prime?"),
        msg("assistant", "Yes, 17 is prime.", "Check divisors 2, 3: none divide 17."),
        msg("user", "And 21?"),
    ],
    "think_tags_in_content": [
        msg("user", "Say hi."),
        msg("assistant", "<think>\nA greeting is requested.\n</think>\n\nHi there!"),
        msg("user", "Again."),
    ],
    "empty_content": [msg("user", "")],
    "empty_system": [msg("system", ""), msg("user", "Hi")],
    "unicode": [
        msg("user", "Привет 👋 — 日本語, \"quotes\", back\\slash, tab\tend"),
        msg("assistant", "Здравствуйте! ✨"),
        msg("user", "ünïcödé ≠ ascii"),
    ],
    "surrounding_whitespace": [
        msg("system", "  padded system  \n"),
        msg("user", "\n\n  spaced question \t\n"),
    ],
    "roles_not_alternating": [msg("user", "one"), msg("user", "two")],
}


def render(source, messages, add_generation_prompt, enable_thinking, special, extra):
    kwargs = {k: v for k, v in special.items() if v is not None}
    kwargs.update(extra)
    if enable_thinking is not None:
        kwargs["enable_thinking"] = enable_thinking
    rendered, _ = render_jinja_template(
        conversations=[messages],
        chat_template=source,
        add_generation_prompt=add_generation_prompt,
        **kwargs,
    )
    return rendered[0]


def make_cases(name, source, special):
    cases = []
    thinking_values = [None, True, False] if "enable_thinking" in source else [None]
    extras = [{}]
    if "date_string" in source:
        extras.append({"date_string": "02 Jan 2025"})
    for conv_name, messages in CONVERSATIONS.items():
        for add_gen in (True, False):
            for thinking in thinking_values:
                for extra in extras:
                    if extra and conv_name != "single_user":
                        continue
                    case_name = f"{conv_name}/gen={int(add_gen)}"
                    if thinking is not None:
                        case_name += f"/thinking={int(thinking)}"
                    if extra:
                        case_name += "/" + ",".join(f"{k}={v}" for k, v in extra.items())
                    case = {
                        "name": case_name,
                        "messages": messages,
                        "add_generation_prompt": add_gen,
                        "enable_thinking": thinking,
                        "bos_token": special["bos_token"] or "",
                        "eos_token": special["eos_token"] or "",
                        "extra": extra,
                    }
                    try:
                        case["expected"] = render(source, messages, add_gen, thinking, special, extra)
                    except jinja2.exceptions.TemplateError as e:
                        case["error"] = str(e)
                    cases.append(case)
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "fixtures" / "templates"))
    args = ap.parse_args()
    out_dir = pathlib.Path(args.out)
    for name, special in TEMPLATES.items():
        source = (out_dir / f"{name}.jinja").read_text(encoding="utf-8")
        cases = make_cases(name, source, special)
        path = out_dir / f"{name}.golden.json"
        path.write_text(
            json.dumps({"template": f"{name}.jinja", "cases": cases}, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
        errors = sum(1 for c in cases if "error" in c)
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {len(cases)} cases ({errors} errors)")


if __name__ == "__main__":
    main()
