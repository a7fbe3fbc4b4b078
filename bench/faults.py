"""Fault drills against real PostgreSQL and Redis, each printing what it saw.

    .venv/bin/python bench/faults.py kill [--kills 10] [--samples 1000]
        SIGKILL the Celery worker N times during a run (LLM answers take 300 ms), restart it,
        and count results per sample when the run ends.
    .venv/bin/python bench/faults.py pg-restart [--samples 1000]
        Restart PostgreSQL during an import (expect: a clear error, nothing written) and during
        a run (expect: the run resumes and every sample ends with exactly one result).

They restart this machine's PostgreSQL cluster (pg_ctlcluster): run them on a dev box or CI
runner, never next to anything else that uses the database."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, fresh_database, setup_django  # noqa: E402
from import_export import synthetic_record, write_file  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def restart_postgres() -> float:
    version = next(iter(os.listdir("/etc/postgresql")))
    start = time.perf_counter()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def load_pairs(samples: int) -> None:
    from annotate.services.imports import import_pairs

    rng = random.Random(5)
    path = Path(tempfile.mkdtemp()) / "pairs.jsonl"
    path.write_text("".join(json.dumps(synthetic_record(i, rng)) + "\n" for i in range(samples)))
    with path.open("rb") as stream:
        import_pairs(stream=stream, dataset_name="faults")


def start_run(server_url: str, concurrency: int = 16):
    from annotate.models import Dataset
    from metajudge.models import Critic
    from metajudge.runs import match_runs as runs
    from metajudge.services.setup import endpoint_for, template_default

    endpoint = endpoint_for(
        model=f"judge-{time.time()}", base_url=server_url, concurrency=concurrency
    )
    return runs.run_start(
        dataset=Dataset.objects.get(name="faults"),
        critic=Critic.objects.get(name="critic1"),
        matcher="llm",
        endpoint=endpoint,
        template=template_default("metajudge"),
        concurrency=concurrency,
    )


def outcome(run_id: int) -> str:
    from django.db.models import Count

    from metajudge.models import MatchResult, MatchRun

    run = MatchRun.objects.get(pk=run_id)
    per_pair = MatchResult.objects.filter(run_id=run_id).values("pair_id").annotate(n=Count("pk"))
    dupes = sum(1 for row in per_pair if row["n"] != 1)
    statuses = dict(
        MatchResult.objects.filter(run_id=run_id).values_list("status").annotate(n=Count("pk"))
    )
    return (
        f"run {run.state}: {run.done_count}/{run.total} done, statuses {statuses}, "
        f"pairs with other than one result: {dupes}"
    )


def wait_done(run_id: int, timeout: float = 900) -> float:
    from django.db import close_old_connections

    from metajudge.models import MatchRun

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        close_old_connections()
        try:
            if MatchRun.objects.get(pk=run_id).state == "done":
                return time.perf_counter() - start
        except Exception:  # noqa: BLE001 - the database may be restarting
            pass
        time.sleep(0.5)
    raise TimeoutError("run did not finish")


def drill_kill(args) -> None:
    from tests.llm_server import LLMServer
    from tests.worker import Worker, use_broker

    load_pairs(args.samples)
    with LLMServer(latency=0.3) as server:
        worker = Worker(
            REDIS_URL,
            concurrency=2,
            extra_env={
                "METAJUDGE_CHUNK_SIZE": "64",
                "CELERY_VISIBILITY_TIMEOUT": "30",
                "METAJUDGE_CLAIM_LEASE": "15",
            },
        )
        use_broker(REDIS_URL, worker.queue)
        run = start_run(server.base_url)
        for k in range(args.kills):
            worker.start()
            time.sleep(random.uniform(2.0, 4.0))
            worker.kill()
            print(f"kill {k + 1}: {outcome(run.pk)}", flush=True)
        with worker:
            took = wait_done(run.pk)
        print(f"after restart: finished in {took:.1f}s; {outcome(run.pk)}")
        print(f"judge calls: {server.stats['requests']} for {args.samples} samples")


def drill_pg_restart(args) -> None:
    from tests.llm_server import LLMServer
    from tests.worker import Worker, use_broker

    path = write_file(22116)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "import_pairs", str(path), "--dataset", "big"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4)
    took = restart_postgres()
    out, err = proc.communicate(timeout=300)
    from annotate.models import Pair

    time.sleep(1)
    from django.db import connections

    connections.close_all()  # ours died with the restart too
    print(
        f"import during a PostgreSQL restart ({took:.1f}s): exit {proc.returncode}; "
        f"pairs written: {Pair.objects.filter(dataset__name='big').count()}"
    )
    print(f"  its message: {(err or out).strip().splitlines()[-1][:300]}")
    load_pairs(args.samples)
    with LLMServer(latency=0.2) as server, Worker(REDIS_URL, concurrency=2) as worker:
        use_broker(REDIS_URL, worker.queue)
        run = start_run(server.base_url)
        time.sleep(3)
        print(f"before restart: {outcome(run.pk)}")
        took = restart_postgres()
        print(f"PostgreSQL restarted in {took:.1f}s")
        connections.close_all()
        print(f"run finished {wait_done(run.pk):.1f}s after the restart; {outcome(run.pk)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("drill", choices=["kill", "pg-restart"])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    url = fresh_database("postgres", "rationale_bench_faults")
    os.environ["DATABASE_URL"] = url
    setup_django(url)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    (drill_kill if args.drill == "kill" else drill_pg_restart)(args)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_DEBUG", "0")
    main()
