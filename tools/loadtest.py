#!/usr/bin/env python3
"""Load test for `v4 serve`: N concurrent streaming clients for D seconds, R rounds.

Starts `v4 serve --port 0` itself (or uses --url), then each client loops: POST a streamed
/v1/chat/completions with its own prompt and max_tokens, read the SSE stream to `data: [DONE]`,
repeat until the round's time is up (a request started before the deadline is read to its end).
Reports per round: errors (non-200, error events, streams without [DONE], exceptions), completed
requests and completion tokens (from `usage`) per client, the fairness ratio min/max tokens, p50 /
p95 / max time between content pieces within a stream, p50 / p95 time to the first piece (includes
waiting in the server's queue), and the server's RSS before the first round and after each round
(a second round tells a leak, which keeps growing, from warm-up, which does not).

Not a CTest test: it runs for minutes. Run it niced on a shared machine:

    nice -n 19 python3 tools/loadtest.py --v4 build/bin/v4 [--model FILE] [--clients 8]
        [--duration 60] [--rounds 2] [--max-tokens 48] [--serve-arg=--parallel=2 ...]

Exit status 0 when no request failed, 1 otherwise. Standard library only.
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

TOPICS = ["the sea", "a lighthouse", "bread", "winter", "a small robot", "trains", "a garden", "the moon",
          "a library", "rain", "mountains", "a market"]


def default_model():
    models_dir = os.environ.get("V4_MODELS_DIR") or os.path.expanduser("~/.local/share/v4chat/models")
    return os.path.join(models_dir, "gemma-3-270m-q4_k_m.gguf")


def start_server(v4, model, extra):
    cmd = [v4, "serve", "-m", model, "--port", "0"] + extra
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found = {}
    log = []

    def reader():
        for line in proc.stdout:
            log.append(line)
            m = re.search(r"on (http://\S+)/v1", line)
            if m and "url" not in found:
                found["url"] = m.group(1)

    threading.Thread(target=reader, daemon=True).start()
    deadline = time.time() + 300
    while "url" not in found and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    if "url" not in found:
        proc.kill()
        sys.exit("v4 serve did not print its URL:\n" + "".join(log))
    return proc, found["url"], log


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class ClientStats:
    def __init__(self):
        self.requests = 0
        self.tokens = 0
        self.errors = []
        self.gaps_ms = []
        self.ttft_ms = []


def one_request(url, key, body, stats):
    """One streamed chat; returns after [DONE], an error, or a broken stream."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    t0 = time.perf_counter()
    try:
        conn.request("POST", "/v1/chat/completions", body=json.dumps(body), headers=headers)
        resp = conn.getresponse()
        if resp.status != 200:
            stats.errors.append(f"HTTP {resp.status}: {resp.read(500)!r}")
            return
        last = None
        done = False
        usage = None
        for raw in resp:
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                break
            event = json.loads(data)
            if "error" in event:
                stats.errors.append(f"error event: {event['error']}")
                return
            if event.get("usage"):
                usage = event["usage"]
            for choice in event.get("choices", []):
                delta = choice.get("delta", {})
                if delta.get("content") or delta.get("reasoning_content"):
                    now = time.perf_counter()
                    if last is None:
                        stats.ttft_ms.append((now - t0) * 1000)
                    else:
                        stats.gaps_ms.append((now - last) * 1000)
                    last = now
        if not done:
            stats.errors.append("stream ended without [DONE]")
            return
        stats.requests += 1
        stats.tokens += usage["completion_tokens"] if usage else 0
    except Exception as e:  # any failure is counted, never fatal for the other clients
        stats.errors.append(f"{type(e).__name__}: {e}")
    finally:
        conn.close()


def client_loop(index, url, key, deadline, max_tokens, stats):
    n = 0
    while time.time() < deadline:
        topic = TOPICS[(index + n) % len(TOPICS)]
        body = {"messages": [{"role": "user", "content": f"Client {index}: write a few sentences about {topic}."}],
                "stream": True, "stream_options": {"include_usage": True}, "max_tokens": max_tokens}
        one_request(url, key, body, stats)
        n += 1


def run_round(url, key, clients, duration, max_tokens):
    stats = [ClientStats() for _ in range(clients)]
    deadline = time.time() + duration
    threads = [threading.Thread(target=client_loop, args=(i, url, key, deadline, max_tokens, stats[i]))
               for i in range(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats, time.time() - start


def report(round_no, stats, wall_s, rss_before, rss_after):
    tokens = [s.tokens for s in stats]
    gaps = [g for s in stats for g in s.gaps_ms]
    ttft = [t for s in stats for t in s.ttft_ms]
    errors = [e for s in stats for e in s.errors]
    fairness = (min(tokens) / max(tokens)) if max(tokens) > 0 else 0.0
    print(f"round {round_no}: {wall_s:.1f} s, {sum(s.requests for s in stats)} requests, {sum(tokens)} tokens "
          f"({sum(tokens) / wall_s:.1f} tok/s), errors {len(errors)}")
    print(f"  tokens per client: {tokens}  (min/max {fairness:.2f})")
    print(f"  requests per client: {[s.requests for s in stats]}")
    print(f"  time between tokens ms: p50 {percentile(gaps, 0.5):.1f}  p95 {percentile(gaps, 0.95):.1f}  "
          f"max {max(gaps) if gaps else float('nan'):.1f}  (n={len(gaps)})")
    print(f"  time to first token ms: p50 {percentile(ttft, 0.5):.0f}  p95 {percentile(ttft, 0.95):.0f}")
    print(f"  server RSS MiB: before {rss_before:.1f}  after {rss_after:.1f}  ({rss_after - rss_before:+.1f})")
    for e in errors[:10]:
        print(f"  error: {e}")
    return len(errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--v4", help="the v4 executable (starts its own server)")
    ap.add_argument("--model", default=default_model())
    ap.add_argument("--url", help="use a running server instead (http://127.0.0.1:8080); RSS needs --pid")
    ap.add_argument("--pid", type=int, help="the running server's process id, for RSS")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--serve-arg", action="append", default=[], help="extra argument for v4 serve (repeat)")
    args = ap.parse_args()

    proc = None
    if args.url:
        url, pid = args.url.rstrip("/"), args.pid
    elif args.v4:
        extra = list(args.serve_arg) + (["--api-key", args.api_key] if args.api_key else [])
        proc, url, _ = start_server(args.v4, args.model, extra)
        pid = proc.pid
    else:
        ap.error("give --v4 or --url")

    try:
        # One request first so that model pages touched by any answer count as "before".
        warm = ClientStats()
        one_request(url, args.api_key, {"messages": [{"role": "user", "content": "Hello"}], "stream": True,
                                        "max_tokens": args.max_tokens}, warm)
        if warm.errors:
            sys.exit(f"warm-up request failed: {warm.errors[0]}")
        rss = rss_mib(pid) if pid else float("nan")
        print(f"v4 serve at {url}; {args.clients} clients x {args.duration:.0f} s x {args.rounds} rounds, "
              f"max_tokens {args.max_tokens}; RSS after warm-up {rss:.1f} MiB")
        failures = 0
        for r in range(1, args.rounds + 1):
            stats, wall = run_round(url, args.api_key, args.clients, args.duration, args.max_tokens)
            after = rss_mib(pid) if pid else float("nan")
            failures += report(r, stats, wall, rss, after)
            rss = after
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=60)
    sys.exit(0 if failures == 0 else 1)


if __name__ == "__main__":
    main()
