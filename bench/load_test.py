"""50 concurrent users against gunicorn on PostgreSQL with 22,116 pairs (x 20 critics of
results): annotators' queue, reviewers' triage list and the REST API, over loopback.

    .venv/bin/python bench/load_test.py [--users 50] [--seconds 60] [--workers 4 --threads 4]

Reuses (or builds) the audit bench database `rationale_bench_audit` (bench/audit_pages.py),
creates the users, starts gunicorn with production settings (plain HTTP on loopback), logs
every user in through the login form, then has each user loop over the three kinds of request
for --seconds, waiting --think seconds on average between requests as a person reading the
page would (--think 0 measures saturation instead). Prints requests/s, p50, p95, p99 per kind
and the error count."""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import audit_pages  # noqa: E402  (sets DATABASE_URL to the audit bench database)

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "pw-load-test-1234"
SERVER_ENV = {
    **os.environ,
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": "load-test-secret-key-0123456789abcdef",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",
    "SECURE_HSTS_SECONDS": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "LOG_LEVEL": "WARNING",
    "LOGIN_MAX_FAILURES": "1000000",
}


def prepare(users: int) -> list[str]:
    audit_pages.create_database(False)
    import django

    django.setup()
    from django.core.management import call_command

    from annotate.access import ANNOTATOR, REVIEWER
    from annotate.models import Dataset
    from annotate.services.accounts import roles_ensure, user_ensure
    from metajudge.models import MatchResult

    call_command("migrate", verbosity=0)
    if not MatchResult.objects.exists():
        audit_pages.load(22116, 20)
    # with the server's (production) settings: the manifest storage needs its manifest
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=SERVER_ENV,
        check=True,
    )
    roles_ensure()
    dataset = Dataset.objects.get(name="bench")
    # Annotators with work to do: a second, open checklist slot per pair (the imported
    # checklists fill slot 0). With no open slot left anywhere, the queue's next-pair query
    # scans every pair (about 45 ms at 22,116 pairs) before it finds none.
    dataset.checklists_per_pair = 2
    dataset.save(update_fields=["checklists_per_pair"])
    names = [f"load{i}" for i in range(users)]
    for name in names:
        user = user_ensure(username=name, password=PASSWORD, role=ANNOTATOR, datasets=[dataset])
        user_ensure(username=user.username, password=PASSWORD, role=REVIEWER)
    return names


def start_gunicorn(workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = 18777
    log = open(Path(tempfile.gettempdir()) / "load_test_gunicorn.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [
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
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=SERVER_ENV,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def login(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = client.post(
        "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert done.status_code == 302, f"login failed for {username}: {done.status_code}"
    return client


def critic_names(client: httpx.Client) -> list[str]:
    figures = client.get("/api/v1/datasets/bench/figures/").json()
    return [row["critic"] for row in figures]


def user_loop(
    client: httpx.Client, critics: list[str], until: float, seen: dict, lock, think: float
) -> None:
    rng = random.Random(id(client))
    i = 0
    while time.monotonic() < until:
        critic = critics[i % len(critics)]
        for kind, path in (
            ("queue", "/annotate/"),
            ("triage", f"/audit/bench/triage/?critic={critic}"),
            ("api", f"/api/v1/pairs/?dataset=bench&page={1 + i % 50}"),
        ):
            start = time.perf_counter()
            try:
                ok = client.get(path).status_code == 200
            except httpx.HTTPError:
                ok = False
            with lock:
                seen[kind].append((time.perf_counter() - start) * 1000)
                seen["errors"] += 0 if ok else 1
            if think:  # a person reads the page before the next click
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))
        i += 1


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds a user waits between requests (0: none)",
    )
    args = parser.parse_args()
    names = prepare(args.users)
    proc, url = start_gunicorn(args.workers, args.threads)
    try:
        clients = [login(url, name) for name in names]
        critics = critic_names(clients[0])
        seen, lock = {"queue": [], "triage": [], "api": [], "errors": 0}, threading.Lock()
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=user_loop, args=(c, critics, until, seen, lock, args.think))
            for c in clients
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait()
    total = sum(len(seen[k]) for k in ("queue", "triage", "api"))
    print(
        f"{args.users} users, {elapsed:.0f} s, gunicorn {args.workers}x{args.threads} gthread, "
        f"think {args.think}s, PostgreSQL: {total} requests ({total / elapsed:.0f}/s), "
        f"{seen['errors']} errors"
    )
    for kind in ("queue", "triage", "api"):
        values = seen[kind]
        print(
            f"  {kind:<7} n={len(values):<6} p50={percentile(values, 50):6.0f} ms  "
            f"p95={percentile(values, 95):6.0f} ms  p99={percentile(values, 99):6.0f} ms"
        )


if __name__ == "__main__":
    main()
