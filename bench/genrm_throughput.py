"""GenRM run throughput against the loopback OpenAI-compatible server.

Run from the repository root:

    .venv/bin/python bench/genrm_throughput.py [--pairs 1000] [--latency 0.2] [--concurrency 32]

A scratch database (PostgreSQL by default; BENCH_DATABASE_URL=sqlite:///... works too) gets a
synthetic dataset; the run is drained in this process through the same chunk code a Celery task
runs. Prints pairs/s, calls/s and the ceiling that the concurrency and latency allow.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault(
    "DATABASE_URL",
    os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ra_bench_genrm"),
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")


def fresh_database() -> None:
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def synthetic_dataset(n: int):
    import json

    from annotate.models import Dataset, Pair

    dataset, _ = Dataset.objects.get_or_create(name=f"bench-genrm-{n}")
    demo = [
        json.loads(line)
        for line in (ROOT / "annotate" / "demo" / "demo_pairs.jsonl").read_text().splitlines()
    ]
    Pair.objects.bulk_create(
        [
            Pair(
                dataset=dataset,
                key=f"p{i}",
                position=i,
                domain=r["domain"],
                context=r["context"],
                response_1=f"{r['response1']}\n\n(variant {i})",
                response_2=r["response2"],
                preference=1 if r["overall_preference"] < 0 else 2,
                source_format="rationalerm",
                raw_json="{}",
            )
            for i, r in ((i, demo[i % len(demo)]) for i in range(n))
        ],
        batch_size=1000,
    )
    return dataset


def run_once(dataset, server, concurrency: int, atoms_from: str, critic_name: str) -> None:
    from metajudge.generation import genrm, genrm_chunk
    from metajudge.models import Critic, Judgment
    from metajudge.services.setup import endpoint_for

    endpoint = endpoint_for(model="bench-genrm", base_url=server.base_url, concurrency=concurrency)
    critic, _ = Critic.objects.get_or_create(name=critic_name)
    server.reset_stats()
    started = time.monotonic()
    run = genrm.genrm_run_start(
        dataset=dataset, critic=critic, endpoint=endpoint, atoms_from=atoms_from, enqueue=False
    )
    for chunk in genrm.pending_chunks(run):
        genrm_chunk.process_chunk(run_id=run.pk, pair_ids=chunk, enqueue_chain=False)
    run = genrm.genrm_run_finalize(run_id=run.pk, enqueue_chain=False)
    elapsed = time.monotonic() - started
    stats = server.stats
    judged = Judgment.objects.filter(critic=critic, error="").exclude(atoms=[]).count()
    print(
        f"atoms from {atoms_from:<8}: {run.total} pairs in {elapsed:.1f}s = "
        f"{run.total / elapsed:.1f} pairs/s, {stats['requests'] / elapsed:.1f} calls/s, "
        f"max in flight {stats['max_in_flight']}, {run.error_count} errors, "
        f"{judged} judgments with atoms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--faults", default="", help='e.g. {"500": 0.05, "429": 0.02}')
    args = parser.parse_args()
    fresh_database()
    import django

    django.setup()
    import logging

    for name in ("httpx", "httpx2", "openai"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from django.core.management import call_command

    from tests.llm_server import LLMServer, _parse_faults, auto_responder

    call_command("migrate", verbosity=0)
    dataset = synthetic_dataset(args.pairs)
    faults = _parse_faults(args.faults)
    with LLMServer(
        responder=auto_responder, latency=args.latency, faults=faults, retry_after=0.2
    ) as server:
        print(
            f"{args.pairs} pairs, judge latency {args.latency * 1000:.0f} ms, concurrency "
            f"{args.concurrency} (ceiling {args.concurrency / args.latency:.0f} calls/s), "
            f"{os.cpu_count()} CPUs, {os.environ['DATABASE_URL'].split(':')[0]}",
            flush=True,
        )
        run_once(dataset, server, args.concurrency, "answer", "bench-genrm-list")
        run_once(dataset, server, args.concurrency, "atomizer", "bench-genrm-atomized")


if __name__ == "__main__":
    main()
