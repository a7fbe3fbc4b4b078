"""Limits shared by worker processes: 1, 2 and 4 processes calling one endpoint.

    .venv/bin/python bench/shared_limits.py [--redis redis://127.0.0.1:6379/15] [--latency 0.2]

The loopback server (tests/llm_server.py, in this process) answers after `latency`; the endpoint
allows 16 calls at once; every process is a JudgeClient 8 calls wide (tests/limits_client.py), so
one process reaches half the bound and two or more could exceed it. Prints calls/s against the
bound (16 / latency) and the most calls the server saw in flight, with the limits in Redis and,
for contrast, kept per process. A last row runs 4 processes under a 1,200 rpm limit and prints
the most calls the server received in any one second (the limit allows 20)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.llm_server import LLMServer, fast_metajudge_responder  # noqa: E402

BOUND, WIDTH, CALLS = 16, 8, 480


class Sampler(threading.Thread):
    """Reads the server's request count every 50 ms: the most requests it received in 1 s."""

    def __init__(self, server: LLMServer) -> None:
        super().__init__(daemon=True)
        self.server, self.done, self.samples = server, threading.Event(), []

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.samples.append((time.monotonic(), self.server.stats["completions"]))

    def most_in_one_second(self) -> int:
        best = 0
        for i, (t0, c0) in enumerate(self.samples):
            later = [c for t, c in self.samples[i:] if t <= t0 + 1.0]
            best = max(best, later[-1] - c0)
        return best


def run(server: LLMServer, processes: int, redis_url: str, rpm: int = 0) -> dict:
    server.reset_stats()
    sampler = Sampler(server)
    sampler.start()
    key = uuid.uuid4().hex
    args = ["--calls", str(CALLS // processes), "--width", str(WIDTH), "--max", str(BOUND)]
    args += ["--rpm", str(rpm), "--key", key] + (["--redis", redis_url] if redis_url else [])
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.limits_client", server.base_url, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    reports = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
    sampler.done.set()
    sampler.join()
    ends = sorted(t for r in reports for t in r["ended"])
    span = ends[-1] - min(r["started_at"] for r in reports)
    per_second = server.most_arrivals_within(1.0)
    per_ten = server.most_arrivals_within(10.0)
    return {
        "ok": sum(r["ok"] for r in reports),
        "rate": len(ends) / span,
        "max_in_flight": server.stats["max_in_flight"],
        "per_second": per_second,
        "per_ten_seconds": per_ten,
        "completions_per_second": sampler.most_in_one_second(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    bound = BOUND / args.latency
    with LLMServer(responder=fast_metajudge_responder, latency=args.latency) as server:
        print(f"endpoint: {BOUND} at once, {args.latency * 1000:.0f} ms -> bound {bound:.0f}/s")
        print(f"{'limits':<12} {'procs':>5} {'calls/s':>8} {'of bound':>9} {'max in flight':>14}")
        for label, url in (("redis", args.redis), ("per process", "")):
            for processes in (1, 2, 4):
                r = run(server, processes, url)
                print(
                    f"{label:<12} {processes:>5} {r['rate']:>8.1f} {r['rate'] / bound:>8.0%} "
                    f"{r['max_in_flight']:>14}",
                    flush=True,
                )
        r = run(server, 4, args.redis, rpm=1200)
        print(
            f"rpm 1200 shared by 4 processes: {r['rate']:.1f} calls/s; requests that reached the "
            f"server: at most {r['per_second']} in any one second (the rate allows 20), "
            f"{r['per_ten_seconds']} in any ten (200); completions (latency jitter included): "
            f"at most {r['completions_per_second']} in one second; max in flight "
            f"{r['max_in_flight']}"
        )


if __name__ == "__main__":
    main()
