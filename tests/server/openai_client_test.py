#!/usr/bin/env python3
"""The official `openai` Python package against `v4 serve` with the default model.

Starts `v4 serve --port 0` itself, reads the URL it prints, then lists models, streams a chat,
does a non-streamed chat and checks two refusals (wrong key, unknown model), and finally stops the
server with SIGTERM and expects a clean exit. The default model is a base model, so only the
structure of the answers is checked. Exits 77 (CTest SKIP_RETURN_CODE) without the model or the
openai package.

    python3 tests/server/openai_client_test.py --v4 build/bin/v4 [--model FILE]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

SKIP = 77
KEY = "test-key-123"


def skip(reason):
    print(f"skipped: {reason}")
    sys.exit(SKIP)


def default_model(name):
    models_dir = os.environ.get("V4_MODELS_DIR") or os.path.expanduser("~/.local/share/v4chat/models")
    return os.path.join(models_dir, name)


def start_server(v4, model):
    proc = subprocess.Popen([v4, "serve", "-m", model, "--port", "0", "--ctx", "2048", "--api-key", KEY],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found = {}
    output = []

    def reader():
        for line in proc.stdout:
            output.append(line)
            m = re.search(r"on (http://\S+/v1)", line)
            if m and "url" not in found:
                found["url"] = m.group(1)

    threading.Thread(target=reader, daemon=True).start()
    deadline = time.time() + 120
    while "url" not in found and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    if "url" not in found:
        proc.kill()
        sys.exit("v4 serve did not print its URL:\n" + "".join(output))
    return proc, found["url"], output


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run(client, openai):
    models = [m.id for m in client.models.list().data]
    check(len(models) == 1, f"models: {models}")
    model = models[0]
    print(f"models: {models}")

    pieces, reasoning, finish, usage, chunks = [], [], None, None, 0
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Tell me a story about a cat."}],
        max_tokens=16, seed=7, temperature=0.8, stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        chunks += 1
        check(chunk.object == "chat.completion.chunk", f"object: {chunk.object}")
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            extra = getattr(choice.delta, "reasoning_content", None)
            if extra:
                reasoning.append(extra)
            if choice.finish_reason:
                finish = choice.finish_reason
    check(pieces or reasoning, "no streamed text")
    check(finish in ("stop", "length"), f"finish_reason: {finish}")
    check(usage is not None and usage.completion_tokens > 0 and usage.prompt_tokens > 0, f"usage: {usage}")
    print(f"stream: {chunks} chunks, {len(pieces)} content pieces, finish_reason={finish}, usage={usage.prompt_tokens}+{usage.completion_tokens}")

    reply = client.chat.completions.create(
        model=model, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}],
        max_tokens=8, temperature=0, stop=["\n\n"])
    check(reply.object == "chat.completion", f"object: {reply.object}")
    check(reply.choices[0].message.role == "assistant", "role")
    check(reply.choices[0].finish_reason in ("stop", "length"), f"finish_reason: {reply.choices[0].finish_reason}")
    check(reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0, f"usage: {reply.usage}")
    print(f"non-stream: finish_reason={reply.choices[0].finish_reason}, usage={reply.usage.prompt_tokens}+{reply.usage.completion_tokens}")

    try:
        client.with_options(api_key="wrong").models.list()
        check(False, "a wrong key was accepted")
    except openai.AuthenticationError as e:
        check(e.status_code == 401, f"status {e.status_code}")
    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}], max_tokens=2)
        check(False, "an unknown model was accepted")
    except openai.NotFoundError as e:
        check(e.status_code == 404, f"status {e.status_code}")
    print("refusals: 401 for a wrong key, 404 for an unknown model")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--v4", required=True, help="path of the v4 executable")
    parser.add_argument("--model", help="GGUF file (default: the default model)")
    parser.add_argument("--model-name", default="gemma-3-270m-q4_k_m.gguf")
    args = parser.parse_args()

    model = args.model or default_model(args.model_name)
    if not os.path.exists(model):
        skip(f"default model not found at {model} (run tools/run or tools/test to fetch it)")
    try:
        import openai
    except ImportError:
        skip("the openai package is not installed (pip install openai)")

    proc, url, output = start_server(args.v4, model)
    print(f"v4 serve at {url} (openai {openai.__version__})")
    try:
        client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0, timeout=120)
        run(client, openai)
    except Exception:
        proc.kill()
        print("".join(output[-40:]))
        raise
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit("v4 serve did not stop within 30 s of SIGTERM")
    check(code == 0, f"v4 serve exited with {code} after SIGTERM")
    print("PASS: openai client round trip; clean shutdown")


if __name__ == "__main__":
    main()
