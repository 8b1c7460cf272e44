#!/usr/bin/env python3
"""Golden outputs for v4::chat_template (tests/template/test_chat_template.cpp).

Renders every tests/fixtures/templates/<name>.jinja over a fixed set of conversations with transformers' own
chat-template renderer (jinja2 ImmutableSandboxedEnvironment, trim_blocks and lstrip_blocks, its tojson,
raise_exception and strftime_now) and writes tests/fixtures/templates/<name>.golden.json:

    {"template": "<name>.jinja", "cases": [{"name", "messages", "add_generation_prompt", "enable_thinking",
      "bos_token", "eos_token", "extra", "expected" | "error"}]}

"error" holds the raise_exception message when the template rejects the conversation.

It also writes tests/fixtures/templates/snippets.json: short templates exercising expressions, filters, tests and
(seeded random) whitespace control, each with jinja2's output, for the interpreter's own semantics.
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


SNIPPET_MESSAGES = [msg("system", "S"), msg("user", " u1 "), msg("assistant", "a1", "r1")]

SNIPPETS = [
    "{{ messages | tojson }}",
    "{{ messages[0] }}",
    "{{ messages | map(attribute='role') | list }}",
    "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}",
    "{{ messages[-1].thinking }}|{{ messages[-1].reasoning_content }}",
    "{{ messages[1:] | map(attribute='content') | join('|') }}",
    "{{ (messages | last).role }}{{ (messages | first).role }}",
    "{{ 3.0 }} {{ 1e20 }} {{ 1e-5 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ -0.0 }} {{ 123456789.123 }}",
    "{{ [1, 'a', none, true, 1.5, {'k': 'v'}] }}",
    "{{ {'a': 'it\\'s'} }}{{ 'x\"y' ~ \"it's\" }}",
    "{{ {'z': 1, 'a': {'b': [1.0, 2]}} | tojson(indent=2) }}",
    "{{ '\\u00e9\\x41\\n\\u0001' | tojson }}",
    "{{ 'AbC' | lower }}{{ 'abc' | upper }}{{ 'a-b c(d' | title }}",
    "{{ '  x  ' | trim('x ') }}|{{ 'xxaxx'.strip('x') }}",
    "{{ 'a b  c'.split(' ') }}{{ 'a b c'.split(' ', 1) }}{{ '  '.split() }}",
    "{{ 'abc' | list }}{{ 'abc' | reverse }}{{ [3, 1, 2] | sort }}{{ [1, 1, 2] | unique | list }}",
    "{{ range(3) | list }}{{ range(1, 10, 3) | list }}{{ range(5, 0, -2) | list }}",
    "{{ [1, 2, 3] | sum }}{{ [1, 5, 3] | max }}{{ ['b', 'a'] | min }}",
    "{{ '5' | int }}{{ '5.5' | float }}{{ 'x' | int(7) }}{{ 3.7 | int }}{{ 2.675 | round(2) }}{{ -3 | abs }}",
    "{{ none | default('d') }}|{{ '' | default('d', true) }}|{{ undefined_v | d('u') }}",
    "{% for k, v in {'x': 1, 'y': 2} | items %}{{ k }}{{ v }}{% endfor %}",
    "{% for m in messages %}{{ loop.previtem.role if loop.previtem is defined }}>{{ m.role }};{% endfor %}",
    "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.content | trim }}{% else %}none{% endfor %}",
    "{% set ns = namespace(x=[]) %}{% for m in messages %}{% set ns.x = ns.x + [m.role] %}{% endfor %}{{ ns.x }}",
    "{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 1 is integer }}{{ 1.0 is float }}{{ true is boolean }}"
    "{{ 1 is sameas 1 }}{{ 2 is in [1, 2] }}",
    "{{ 1 is eq 1 }}{{ 2 is gt 1 }}{{ 'a' is ne 'b' }}{{ 3 is even }}",
    "{{ messages[0].get('role') }}{{ messages[0].get('nope', 'dflt') }}{{ messages[0].keys() | list }}",
    "{{ 'a' * 3 }}{{ [0] * 2 }}{{ 2 * 'b' }}",
    "{{ 'abc'.find('c') }}{{ 'abcabc'.count('bc') }}{{ ','.join(['a', 'b']) }}",
    "{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }}{{ m(1, b=3) }}{{ m(b=5, a=4) }}",
    "{{ [] | length }}{{ 'é' | length }}{% set a, b = [1, 2] %}{{ b }}{{ a }}",
    "{{ 1 if true }}{{ 2 if false else 3 }}{{ 'n' if none is none else 'x' }}",
    "{{ 10 // 3 }}{{ 10 % -3 }}{{ -10 // 3 }}{{ 2 ** -1 }}{{ 7.5 // 2 }}{{ 7.5 % 2 }}",
    "{%- for m in messages -%}\n  {{- m.role }}\n  {% if loop.last %}LAST{% endif %}\n{%- endfor %}\n",
    "{% if messages[0]['role'] == 'system' %}\n    {%- set s = messages[0]['content'] %}\n{% endif %}\n[{{ s }}]\n",
    "  {% for i in [1, 2] %}\n  {{ i }}\n  {% endfor %}\n",
    "{{ bos_token }}|{{ add_generation_prompt }}|{{ tools }}|{{ documents }}",
    "{{ [1, 2, 3, 4, 5][1:4:2] }}{{ 'abcdef'[::2] }}{{ [1, 2, 3][5:] }}{{ 'abc'[-10:2] }}",
    "{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ 1 < 2.5 }}{{ 1 == true }}{{ 0 == false }}{{ none == none }}",
    "{{ '%s' }}{{ '{}' }}{{ '\\\\n' }}{{ 1_000 }} {{ 1.5e3 }}",
    "{%- set x %}\n  inner {{ 1 }}\n{% endset -%}\n[{{ x }}]",
]


def random_whitespace_snippets(count, seed=7):
    # Random text and tags with every whitespace-control marker, nested up to three deep.
    import random

    rng = random.Random(seed)
    texts = ["", " ", "  ", "\n", "\n  ", "  \n", "\t", "a", " b ", "\n\n", "c\n", " \n \n "]

    def ctl(allow_plus=True):
        return rng.choice(["", "-", "+"] if allow_plus else ["", "-"])

    def gen(depth):
        out = ""
        for _ in range(rng.randint(1, 4)):
            out += rng.choice(texts)
            kind = rng.choice(["if", "for", "var", "com", "set"])
            if kind == "var":
                out += "{{%s 'v' %s}}" % (ctl(False), ctl(False))
            elif kind == "com":
                out += "{#%s c %s#}" % (ctl(), ctl())
            elif kind == "set":
                out += "{%%%s set z = 1 %s%%}" % (ctl(), ctl())
            else:
                head, end = ("if true", "endif") if kind == "if" else ("for i in [1, 2]", "endfor")
                out += "{%%%s %s %s%%}" % (ctl(), head, ctl())
                out += gen(depth + 1) if depth < 2 else rng.choice(texts)
                out += rng.choice(texts) + "{%%%s %s %s%%}" % (ctl(), end, ctl())
            out += rng.choice(texts)
        return out

    return [gen(0) for _ in range(count)]


def make_snippets():
    cases = []
    for source in SNIPPETS + random_whitespace_snippets(300):
        rendered, _ = render_jinja_template(
            conversations=[SNIPPET_MESSAGES], chat_template=source, add_generation_prompt=False, bos_token="<s>"
        )
        cases.append({"source": source, "expected": rendered[0]})
    return {"messages": SNIPPET_MESSAGES, "add_generation_prompt": False, "bos_token": "<s>", "cases": cases}


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
    snippets = make_snippets()
    path = out_dir / "snippets.json"
    path.write_text(json.dumps(snippets, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{path}: {len(snippets['cases'])} snippets")


if __name__ == "__main__":
    main()
