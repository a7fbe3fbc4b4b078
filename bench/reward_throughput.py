"""Throughput and latency of POST /api/v1/reward against a real server process.

Run from the repository root (PostgreSQL must be up; the database named below is recreated):

    .venv/bin/python bench/reward_throughput.py [--workers 3] [--threads 16] [--seconds 20]

It migrates a scratch database, loads the demo dataset, starts gunicorn on loopback, and drives it
with client threads (httpx, one keep-alive connection each). Every request carries a fresh GenRM
text (a nonce in each reason), so the offline matcher's per-atom cache never hides the work.
Then it measures the LLM matcher through the loopback OpenAI-compatible server: cold (misses,
each a judge call) and warm (the shared result cache answers). Prints req/s, p50, p95, p99.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ra_bench_reward")
ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "bench-secret-key-not-for-production",
    "DJANGO_DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "REWARD_RATE_LIMIT": "100000/s",
    "API_RATE_LIMIT": "100000000/hour",
    "DB_CONN_MAX_AGE": "600",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",  # plain HTTP on loopback
}


def manage(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def prepare() -> tuple[str, list[dict]]:
    """Fresh database with the demo data; returns an API token and the demo judgments."""
    import psycopg

    base, name = DB_URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "--noinput")
    manage("setup_demo")
    script = (
        "from rest_framework.authtoken.models import Token;"
        "from django.contrib.auth import get_user_model;"
        "from metajudge.models import Judgment;import json;"
        # The reviewer of demo: the LLM phase needs a user who may spend the judge's budget.
        "u=get_user_model().objects.get(username='reviewer');"
        "t,_=Token.objects.get_or_create(user=u);"
        "rows=list(Judgment.objects.values('pair_id','generated_text','atoms'));"
        "print(json.dumps({'token':t.key,'rows':rows}))"
    )
    found = json.loads(manage("shell", "-c", script).strip().splitlines()[-1])
    return found["token"], found["rows"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    log = open(Path(tempfile.gettempdir()) / "reward_bench_gunicorn.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, start_new_session=True, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not come up")


TICK = os.sysconf("SC_CLK_TCK")


def _procs() -> list[tuple[int, int, str, float]]:
    """(pid, ppid, cmdline, cpu seconds) of every process we may read."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        found.append(
            (int(entry.name), int(stat[1]), cmdline, (int(stat[11]) + int(stat[12])) / TICK)
        )
    return found


def server_cpu(master: int) -> tuple[float, float]:
    """CPU seconds used so far by the gunicorn workers and by the bench database's backends."""
    db = DB_URL.rsplit("/", 1)[1]
    procs = _procs()
    web = sum(cpu for pid, ppid, _, cpu in procs if ppid == master or pid == master)
    pg = sum(cpu for _, _, cmd, cpu in procs if cmd.startswith("postgres: ") and f" {db} " in cmd)
    return web, pg


def with_nonce(text: str, nonce: int) -> str:
    """A new GenRM text: each reason line gets a distinct tag, so its atoms are unseen."""
    return "\n".join(
        f"{line} (run {nonce})" if line.startswith("- ") else line for line in text.splitlines()
    )


def load(
    url: str, token: str, rows: list[dict], seconds: float, threads: int, make_body
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    counter = iter(range(10**9))

    def client() -> None:
        mine, bad = [], 0
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Token {token}"}, timeout=30
        ) as http:
            while time.monotonic() < stop_at:
                body = make_body(rows, next(counter))
                started = time.perf_counter()
                response = http.post("/api/v1/reward", json=body)
                mine.append(time.perf_counter() - started)
                payload = response.json() if response.status_code == 200 else {"error": 1}
                bad += any(
                    "error" in p for p in (payload if isinstance(payload, list) else [payload])
                )
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started, cpu0 = time.monotonic(), (time.process_time(), *server_cpu(MASTER[0]))
    pool = [threading.Thread(target=client) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    cpu1 = (time.process_time(), *server_cpu(MASTER[0]))
    CPU[:] = [(b - a) / max(len(latencies), 1) * 1000 for a, b in zip(cpu0, cpu1, strict=True)]
    return latencies, errors[0], time.monotonic() - started


def offline_body(rows, n):
    row = random.choice(rows)
    return {"pair_id": row["pair_id"], "generated_text": with_nonce(row["generated_text"], n)}


MASTER = [0]
CPU: list[float] = []  # ms of CPU per request in the last load(): client, gunicorn, postgres


def report(name: str, latencies: list[float], errors: int, elapsed: float, per: int = 1) -> None:
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
    print(
        f"{name}: {len(ms)} requests in {elapsed:.1f}s = {len(ms) / elapsed:.0f} req/s"
        f"{f' ({len(ms) * per / elapsed:.0f} items/s)' if per > 1 else ''}, "
        f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms, item errors {errors}",
        flush=True,
    )
    if CPU:
        client, web, pg = CPU
        print(
            f"  CPU per request: server {web:.2f} ms + database {pg:.2f} ms (client {client:.2f}"
            f" ms); 2 idle cores would serve {2000 / (web + pg):.0f} req/s, "
            f"{2000 / (web + pg + client):.0f} req/s with this client on them too",
            flush=True,
        )
        CPU.clear()


def llm_phase(url: str, token: str, rows: list[dict], latency: float) -> None:
    from tests.llm_server import LLMServer

    with LLMServer(latency=latency) as server:
        script = (
            "from metajudge.services.setup import endpoint_for;"
            f"print(endpoint_for(model='bench-judge', base_url='{server.base_url}').name)"
        )
        name = manage("shell", "-c", script).strip().splitlines()[-1]
        sample = rows[:32]

        def llm_body(_rows, n):
            row = sample[n % len(sample)]
            return {
                "pair_id": row["pair_id"],
                "generated_text": row["generated_text"],
                "matcher": "llm",
                "endpoint": name,
            }

        cold, started = [], time.monotonic()
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60
        ) as http:
            for n in range(len(sample)):  # each question once: every one is a judge call
                t0 = time.perf_counter()
                http.post("/api/v1/reward", json=llm_body(sample, n))
                cold.append(time.perf_counter() - t0)
        report(
            f"llm matcher, cold (judge latency {latency * 1000:.0f} ms, sequential)",
            cold,
            0,
            time.monotonic() - started,
        )
        calls = server.stats["requests"]
        warm = load(url, token, sample, 10, 8, llm_body)
        report("llm matcher, warm (shared result cache)", *warm)
        print(f"  judge calls during the warm phase: {server.stats['requests'] - calls}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server-threads", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch", type=int, default=32, help="items per request, batch phase")
    parser.add_argument("--llm-latency", type=float, default=0.2)
    args = parser.parse_args()
    token, rows = prepare()
    proc, url = start_server(args.workers, args.server_threads)
    MASTER[0] = proc.pid
    try:
        print(
            f"gunicorn gthread {args.workers}x{args.server_threads} on {url}, "
            f"{os.cpu_count()} CPUs, {args.threads} client threads, PostgreSQL",
            flush=True,
        )
        load(url, token, rows, 2, args.threads, offline_body)  # warm-up
        report(
            "offline matcher, one item per request",
            *load(url, token, rows, args.seconds, args.threads, offline_body),
        )

        def batch_body(_rows, n):
            return [offline_body(rows, n * args.batch + k) for k in range(args.batch)]

        report(
            f"offline matcher, batches of {args.batch}",
            *load(url, token, rows, args.seconds / 2, 4, batch_body),
            per=args.batch,
        )
        llm_phase(url, token, rows, args.llm_latency)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
