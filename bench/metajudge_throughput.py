"""MetaJudge pipeline throughput against the loopback OpenAI-compatible server.

    .venv/bin/python bench/metajudge_throughput.py [--samples 2000] [--latency 0.2]

Creates 2,000 synthetic pairs in a fresh PostgreSQL database, starts the loopback server in its
own process, and scores every sample through the same code a Celery worker runs
(metajudge.matching.chunks.process_chunk), results persisted in PostgreSQL. Prints samples/s
against the endpoint's bound (concurrency / latency) at concurrency 32 and 64, the overhead per
sample when the server answers instantly, and this process's peak RSS."""

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
from common import fresh_database, peak_rss_mb, proc_cpu, setup_django, start_judge  # noqa: E402
from import_export import synthetic_record  # noqa: E402


def start_server(port: int, latency: float) -> subprocess.Popen:
    return start_judge(port, latency, "metajudge-fast")


def load(samples: int) -> None:
    from annotate.services.imports import import_pairs

    rng = random.Random(3)
    path = Path(tempfile.mkdtemp()) / "pairs.jsonl"
    path.write_text("".join(json.dumps(synthetic_record(i, rng)) + "\n" for i in range(samples)))
    with path.open("rb") as stream:
        import_pairs(stream=stream, dataset_name="bench")


def one_run(base_url: str, concurrency: int, model: str) -> tuple[float, int, int, float]:
    """(seconds, done, errors, seconds spent in calls): the calls are timed from the drain's
    start to its end, so the chunk's claim, prompts and final writes are left out of them."""
    from annotate.models import Dataset
    from metajudge.matching import chunks as matching
    from metajudge.models import Critic, MatchRun
    from metajudge.runs import lifecycle
    from metajudge.runs import match_runs as runs
    from metajudge.services.setup import endpoint_for, template_default

    endpoint = endpoint_for(model=model, base_url=base_url, concurrency=concurrency)
    run = runs.run_start(
        dataset=Dataset.objects.get(name="bench"),
        critic=Critic.objects.get(name="critic1"),
        matcher="llm",
        endpoint=endpoint,
        template=template_default("metajudge"),
        concurrency=concurrency,
        enqueue=False,
    )
    in_calls = []
    drain = lifecycle.drain

    def timed_drain(*args, **kwargs):
        began = time.perf_counter()
        try:
            return drain(*args, **kwargs)
        finally:
            in_calls.append(time.perf_counter() - began)

    lifecycle.drain = timed_drain
    start = time.perf_counter()
    try:
        for chunk in runs.pending_chunks(run):
            matching.process_chunk(run_id=run.pk, pair_ids=chunk)
    finally:
        lifecycle.drain = drain
    elapsed = time.perf_counter() - start
    run = MatchRun.objects.get(pk=run.pk)
    return elapsed, run.done_count, run.error_count, sum(in_calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    setup_django(fresh_database("postgres", "rationale_bench_mj"))
    load(args.samples)
    import metajudge.llm.batch  # noqa: F401  a worker has these loaded before its
    import metajudge.matching.chunks  # noqa: F401  first task; keep import time out

    print(f"{args.samples} samples, PostgreSQL, loopback server in its own process")
    for latency, concurrencies in ((args.latency, (32, 64)), (0.0, (64,))):
        server = start_server(18000 + int(latency * 1000), latency)
        try:
            for c in concurrencies:
                # a distinct model name per run: the result cache must not answer for us
                server_cpu, own_cpu = proc_cpu(server.pid), time.process_time()
                elapsed, done, errors, in_calls = one_run(
                    f"http://127.0.0.1:{18000 + int(latency * 1000)}/v1", c, f"judge-{latency}-{c}"
                )
                rate = done / elapsed
                server_cpu = proc_cpu(server.pid) - server_cpu
                own_cpu = time.process_time() - own_cpu
                line = (
                    f"latency={latency * 1000:.0f}ms concurrency={c}: {done} done, {errors} "
                    f"errors in {elapsed:.2f}s = {rate:.0f} samples/s"
                )
                if latency:
                    bound = c / latency
                    line += f" (bound {bound:.0f}/s, {100 * rate / bound:.0f}% of it)"
                    line += (
                        f"; while calls were in flight {done / in_calls:.0f}/s "
                        f"({100 * done / in_calls / bound:.0f}%), chunk set-up and final "
                        f"writes {elapsed - in_calls:.2f}s"
                    )
                else:
                    line += f" -> overhead {1000 * elapsed / done:.2f} ms/sample"
                line += (
                    f"; CPU: this process {own_cpu:.2f}s ({100 * own_cpu / elapsed:.0f}% of a "
                    f"core), the loopback server {server_cpu:.2f}s "
                    f"({100 * server_cpu / elapsed:.0f}%)"
                )
                print(line, flush=True)
        finally:
            server.terminate()
            server.wait()
    print(f"peak RSS of the scoring process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_DEBUG", "0")
    main()
