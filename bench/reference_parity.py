"""The live judge path side by side with the reference pipeline, on the same loopback judge.

    python bench/reference_parity.py [--samples 600] [--concurrency 32] [--latency 0.05]
        [--reference ../shared/reference]

A loopback judge (tests/llm_server.py, responder ``metajudge-tricky``) answers like an imperfect
real one: scores off the five levels, R lines out of order on some first attempts, no result block
on some first (or every) attempts, one line short on others. It keys its answers on the sample's
atoms, not on the prompt's wording, so the reference inference script and the app, each with its
own prompt, get the same sequence of answers. The reference inference + analysis scripts and the
app (import, ``run_metajudge --sync``, ``metajudge_report``) then run against fresh copies of that
judge, and both sets of figures are printed with their difference. Not part of the test suite
(the suite restates the rules in tests/test_fidelity.py and never reads ../shared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from common import proc_cpu, start_judge  # noqa: E402

DEMO = ROOT / "annotate" / "demo" / "demo_pairs.jsonl"
CRITIC = "careful-judge"
KEYS = ("valid_samples", "error_samples", "precision", "recall", "f1", "average_precision")


def write_input(path: Path, samples: int) -> None:
    """RationaleRM records built from the demo's atoms, shuffled per sample, with a few model
    checklists that are empty or longer than ten atoms (the reference asks those too)."""
    rng = random.Random(11)
    demo = [json.loads(line) for line in DEMO.open(encoding="utf-8") if line.strip()]
    pool = [atom for r in demo for atom in r[f"{CRITIC}-checklist"]]
    with path.open("w", encoding="utf-8") as out:
        for k in range(samples):
            base = dict(demo[k % len(demo)])
            base["id"] = f"parity-{k:05d}"
            human = list(base["human-checklist"])
            rng.shuffle(human)
            model = rng.sample(pool, rng.randint(1, 6))
            if k % 97 == 5:
                model = []
            elif k % 89 == 7:
                model = rng.sample(pool, 12)
            base["human-checklist"], base[f"{CRITIC}-checklist"] = human, model
            out.write(json.dumps(base, ensure_ascii=False) + "\n")


def child_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def judge(latency: float, responder: str = "metajudge-tricky"):
    """A fresh loopback judge process (fresh attempt counters) for one pipeline."""
    port = free_port()
    proc = start_judge(port, latency, responder)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_reference(reference: Path, data: Path, work: Path, base_url: str, c: int) -> dict:
    out = work / "reference" / "out.jsonl"
    start, cpu = time.perf_counter(), child_cpu()
    subprocess.run(
        [
            sys.executable,
            str(reference / "metajudge_infer.py"),
            "--input-file",
            str(data),
            "--output-file",
            str(out),
            "--model",
            "judge-x",
            "--model-be-evaluated",
            CRITIC,
            "--api-base",
            base_url,
            "--api-key",
            "x",
            "--concurrent-requests",
            str(c),
            "--rate-limit-delay",
            "0",
            "--batch-size",
            "100000",
            "--log-file",
            str(work / "reference" / "infer.log"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    inference, inference_cpu = time.perf_counter() - start, child_cpu() - cpu
    figures = work / "reference" / "figures.json"
    subprocess.run(
        [
            sys.executable,
            str(reference / "metajudge_analysis.py"),
            "--input-file",
            str(out),
            "--model-be-evaluated",
            CRITIC,
            "--output-file",
            str(figures),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    [row] = json.loads(figures.read_text())
    return {**row, "seconds": inference, "cpu": inference_cpu}


def run_command(base_url: str, c: int) -> tuple[str, ...]:
    """The app's MetaJudge run of the parity dataset on the loopback judge."""
    return (
        *("run_metajudge", "--dataset", "parity", "--critic", CRITIC, "--judge-model", "judge-x"),
        *("--base-url", base_url, "--concurrency", str(c), "--matcher", "llm"),
    )


def run_app(data: Path, work: Path, base_url: str, c: int, worker_redis: str = "") -> dict:
    """``run_metajudge --sync`` in its own process (Django start-up and imports included), or,
    with `worker_redis`, the product's path: a Celery worker already running on that Redis
    broker takes the run that ``run_metajudge`` enqueues (timed until the run is done)."""
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "RATIONALE_VAR_DIR": str(work / "app"),
        "DATABASE_URL": f"sqlite:///{work / 'app' / 'db.sqlite3'}",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "METAJUDGE_FORMAT_RETRIES": "4",  # the reference's --max-retries 5: five answers at most
        "METAJUDGE_BACKOFF_BASE": "0.05",
    }
    (work / "app").mkdir(parents=True)

    def manage(*args: str, ok=(0,)) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode not in ok:
            raise SystemExit(f"manage.py {args[0]} failed:\n{done.stderr}")
        return done.stdout

    manage("migrate", "-v", "0")
    manage("import_pairs", str(data), "--dataset", "parity")
    if worker_redis:
        return _run_on_worker(env, manage, work, base_url, c, worker_redis)
    start, cpu = time.perf_counter(), child_cpu()
    manage(*run_command(base_url, c), "--sync", ok=(0, 1))  # 1: some samples ended as errors
    seconds, used = time.perf_counter() - start, child_cpu() - cpu
    [row] = json.loads(manage("metajudge_report", "--dataset", "parity", "--format", "json"))
    return {**row, "seconds": seconds, "cpu": used}


def _run_on_worker(env, manage, work: Path, base_url: str, c: int, redis_url: str) -> dict:
    env.pop("CELERY_TASK_ALWAYS_EAGER")
    env.update(CELERY_BROKER_URL=redis_url, CELERY_RESULT_BACKEND="")
    env["CELERY_TASK_DEFAULT_QUEUE"] = env["CELERY_LLM_QUEUE"] = f"parity-{os.getpid()}"
    log = (work / "worker.log").open("w")
    # Two pool processes, as scripts/app.sh runs the worker: the run's chunks go to both, and
    # the limits in Redis keep the endpoint's concurrency for the two together.
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "2"]
        + ["-Q", env["CELERY_LLM_QUEUE"], "--loglevel", "INFO", "--without-heartbeat"]
        + ["--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in (work / "worker.log").read_text():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("the Celery worker did not start: see " + str(log.name))
            time.sleep(0.1)
        cpu = proc_cpu(worker.pid)
        start = time.perf_counter()
        manage(*run_command(base_url, c))
        db = sqlite3.connect(work / "app" / "db.sqlite3", isolation_level=None)
        while db.execute("SELECT state FROM metajudge_matchrun ORDER BY id DESC").fetchone()[
            0
        ] not in ("done", "failed", "aborted"):
            time.sleep(0.05)
        seconds, used = time.perf_counter() - start, proc_cpu(worker.pid) - cpu
        created, finished = db.execute(
            "SELECT created_at, finished_at FROM metajudge_matchrun ORDER BY id DESC"
        ).fetchone()
        db.close()
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
    [row] = json.loads(manage("metajudge_report", "--dataset", "parity", "--format", "json"))
    run_seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(created)).seconds
    run_seconds += (
        datetime.fromisoformat(finished) - datetime.fromisoformat(created)
    ).microseconds / 1e6
    return {**row, "seconds": seconds, "cpu": used, "run_seconds": run_seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "reference")
    parser.add_argument(
        "--responder",
        default="metajudge-tricky",
        help="metajudge-fast: a well-formed judge at almost no CPU, for a pure speed comparison",
    )
    parser.add_argument(
        "--worker-redis",
        default="",
        help="time the app on a running Celery worker with this Redis broker (e.g. "
        "redis://127.0.0.1:6379/14), the path a run launched from the browser takes",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="interleaved runs of each (the order alternates); times are medians",
    )
    args = parser.parse_args()
    refs, apps, c = [], [], args.concurrency
    with tempfile.TemporaryDirectory(prefix="parity-") as tmp:
        data = Path(tmp) / "in.jsonl"
        write_input(data, args.samples)
        for r in range(args.rounds):
            work = Path(tmp) / f"round-{r}"
            order = ("ref", "app") if r % 2 == 0 else ("app", "ref")
            for who in order:
                with judge(args.latency, args.responder) as url:
                    if who == "ref":
                        refs.append(run_reference(args.reference, data, work, url, c))
                    else:
                        apps.append(run_app(data, work, url, c, args.worker_redis))
    ref, app = refs[-1], apps[-1]
    if args.worker_redis:
        app["run_seconds"] = statistics.median(x["run_seconds"] for x in apps)
    for key in ("seconds", "cpu"):
        ref[key] = statistics.median(x[key] for x in refs)
        app[key] = statistics.median(x[key] for x in apps)
    bound = args.samples * args.latency / args.concurrency
    print(
        f"{args.samples} samples, concurrency {args.concurrency}, judge latency "
        f"{args.latency * 1000:.0f} ms; {args.rounds} interleaved round(s), medians; "
        f"the endpoint's bound is {bound:.1f} s; app: "
        + ("a running Celery worker" if args.worker_redis else "run_metajudge --sync")
    )
    if args.rounds > 1:
        print("  reference runs: " + ", ".join(f"{x['seconds']:.1f}" for x in refs) + " s")
        print("  app runs:       " + ", ".join(f"{x['seconds']:.1f}" for x in apps) + " s")
    print(f"{'figure':<20} {'reference':>12} {'app':>12} {'|diff|':>10}")
    worst = 0.0
    for key in KEYS:
        diff = abs(float(ref[key]) - float(app[key]))
        worst = max(worst, diff)
        print(f"{key:<20} {float(ref[key]):>12.6f} {float(app[key]):>12.6f} {diff:>10.2e}")
    print(f"{'total_samples':<20} {ref['total_samples']:>12} {app['total_samples']:>12}")
    print(
        f"wall time: reference inference {ref['seconds']:.1f} s, app run {app['seconds']:.1f} s "
        f"(app/ref {app['seconds'] / ref['seconds']:.2f}x; app at "
        f"{bound / app['seconds']:.0%} of the bound, reference at {bound / ref['seconds']:.0%})"
    )
    if args.worker_redis:
        print(
            f"  the run itself, created -> done (what a launch from the browser waits; the "
            f"command's start-up left out): {app['run_seconds']:.1f} s "
            f"(app/ref {app['run_seconds'] / ref['seconds']:.2f}x)"
        )
    print(
        f"process CPU (user + system): reference inference {ref['cpu']:.1f} s, app run "
        f"{app['cpu']:.1f} s (the loopback judge runs in a process of its own, not counted)"
    )
    print("identical" if worst < 1e-12 else f"DIFFERENT (max |diff| {worst:.2e})")
    return 0 if worst < 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())
