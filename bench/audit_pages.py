"""Server time of the reviewer audit pages with 22,116 pairs x 20 critics of match results.

    .venv/bin/python bench/audit_pages.py [--requests 30] [--pairs 22116] [--critics 20] [--fresh]

Creates (once) a PostgreSQL database of its own, `rationale_bench_audit` on BENCH_PG
(default postgres://postgres@127.0.0.1:5432), migrates it, bulk-loads synthetic pairs, human
checklists (one in ten pairs with a second one, for the human ceiling), judgments and one finished
run per critic with realistic metric spreads, then times the dashboard (full page and htmx
regions), the triage queue (first page, a filtered page, a deep keyset page) and a case page
through the Django test client. Prints p50/p95 in ms and the query count of each page.
A later run reuses the loaded data; --fresh drops and reloads it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "rationale_bench_audit"
os.environ["DATABASE_URL"] = f"{SERVER}/{DB_NAME}"
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BATCH = 5000
DOMAINS = ["code", "general", "stem", "multilingual"]
LANGUAGES = ["english"] * 6 + ["chinese", "german", "spanish", "japanese"]
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)


def create_database(fresh: bool) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{DB_NAME}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def load_pairs(n_pairs: int):
    from annotate.models import Checklist, ChecklistRevision, Dataset, Pair

    dataset = Dataset.objects.create(name="bench")
    for start in range(0, n_pairs, BATCH):
        pairs = Pair.objects.bulk_create(
            [
                Pair(
                    dataset=dataset,
                    key=f"k{i}",
                    external_id=f"hs3-{i}",
                    position=i + 1,
                    domain=DOMAINS[i % 4],
                    language=LANGUAGES[i % len(LANGUAGES)],
                    context=[{"role": "user", "content": f"Question {i}: sort these numbers."}],
                    response_1=f"**Answer {i}.1**\n\n- sorted\n- explained\n" * 8,
                    response_2=f"Answer {i}.2 with a shorter reply.\n" * 6,
                    preference=1 + i % 2,
                    preference_strength=-2 if i % 2 == 0 else 2,
                    source_format="rationalerm",
                    raw_json="{}",
                )
                for i in range(start, min(start + BATCH, n_pairs))
            ]
        )
        slots = [(p, 0) for p in pairs] + [(p, 1) for p in pairs if p.position % 10 == 0]
        checklists = Checklist.objects.bulk_create(
            [Checklist(pair=p, slot=slot, status="submitted", version=1) for p, slot in slots]
        )
        revisions = ChecklistRevision.objects.bulk_create(
            [
                ChecklistRevision(
                    checklist=c,
                    number=1,
                    source="import",
                    atoms=[
                        f"Response {1 + k % 2} handles point {k + c.slot} of item {c.pair_id}."
                        for k in range(4)
                    ],
                )
                for c in checklists
            ]
        )
        for c, r in zip(checklists, revisions, strict=True):
            c.current = r
        Checklist.objects.bulk_update(checklists, ["current"])
    return dataset


def load_critic(dataset, k: int, rng: random.Random) -> None:
    from annotate.models import Checklist
    from metajudge.models import Critic, Judgment, MatchResult, MatchRun

    critic = Critic.objects.create(name=f"critic-{k:02d}")
    accuracy = 0.62 + 0.3 * rng.random()
    quality = rng.random()  # how often its reasons match the humans'
    run = MatchRun.objects.create(
        dataset=dataset, critic=critic, matcher="offline", judge_model="offline", state="done"
    )
    revision = dict(
        Checklist.objects.filter(pair__dataset=dataset, slot=0).values_list("pair_id", "current_id")
    )
    pairs = list(dataset.pairs.order_by("pk").values_list("pk", "preference"))
    for start in range(0, len(pairs), BATCH):
        chunk = pairs[start : start + BATCH]
        judgments = Judgment.objects.bulk_create(
            [
                Judgment(
                    pair_id=pk,
                    critic=critic,
                    label=pref if rng.random() < accuracy else 3 - pref,
                    atoms=[f"Response A handles point {m} well." for m in range(4)],
                    generated_text="Thinking it over.\n- "
                    + "\n- ".join(f"Response A handles point {m} well." for m in range(4)),
                )
                for pk, pref in chunk
            ]
        )
        MatchResult.objects.bulk_create(
            [
                fake_result(run, judgment, pref, revision[pk], quality, rng)
                for judgment, (pk, pref) in zip(judgments, chunk, strict=True)
            ]
        )
    total = len(pairs)
    MatchRun.objects.filter(pk=run.pk).update(total=total, done_count=total)


def fake_result(
    run, judgment, preference: int, revision_id: int, quality: float, rng: random.Random
):
    """A scored sample: four human atoms, each matched at a level drawn by the critic's quality."""
    from metajudge.method import scoring
    from metajudge.models import MatchResult

    scores = [rng.choices(LEVELS, weights=(1 - quality, 1, 1, 1, quality))[0] for _ in range(4)]
    lines = [(i, (i if s else 0), s) for i, s in enumerate(scores, start=1)]
    metrics = scoring.score_lines(lines, 4, 4)
    status = rng.choices(["valid", "error", "skipped"], weights=(97, 2, 1))[0]
    if status != "valid":
        metrics = dict.fromkeys(metrics)
    return MatchResult(
        run=run,
        pair_id=judgment.pair_id,
        judgment=judgment,
        revision_id=revision_id,
        status=status,
        stale=rng.random() < 0.01,
        label_correct=judgment.label == preference,
        raw_text=scoring.render_answer(lines),
        lines=[list(x) for x in lines],
        error="no score line" if status == "error" else "",
        **metrics,
    )


def load(n_pairs: int, n_critics: int) -> None:
    from django.db import connection

    rng = random.Random(6)
    started = time.perf_counter()
    dataset = load_pairs(n_pairs)
    for k in range(n_critics):
        load_critic(dataset, k, rng)
        print(
            f"  critic {k + 1}/{n_critics} loaded ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def reviewer():
    from annotate.access import REVIEWER
    from annotate.models import Dataset
    from annotate.services.accounts import roles_ensure, user_ensure

    roles_ensure()
    return user_ensure(
        username="bench-rev",
        password="pw-bench-rev",
        role=REVIEWER,
        datasets=[Dataset.objects.get(name="bench")],
    )


def measure(client, url, n: int, headers: dict, before=None) -> tuple[float, float, int]:
    """p50/p95 ms of n requests; `url` may be a function of the request number.

    before: run (untimed) before each request, e.g. a write that invalidates cached figures.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url_for = url if callable(url) else (lambda i: url)
    for i in range(3):  # warm: connection, templates, the ceiling cache
        assert client.get(url_for(-1 - i), **headers).status_code == 200
    times = []
    for i in range(n):
        if before:
            before()
        started = time.perf_counter()
        response = client.get(url_for(i), **headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    if before:
        before()
    with CaptureQueriesContext(connection) as ctx:
        client.get(url_for(n), **headers)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(ctx.captured_queries)


def touch(n_runs: int):
    """A write like the engine's: one result of each of n runs gets a new updated_at."""
    from django.utils import timezone

    from metajudge.models import MatchResult, MatchRun

    ids = [
        MatchResult.objects.filter(run=run).values_list("pk", flat=True).first()
        for run in MatchRun.objects.order_by("pk")[:n_runs]
    ]

    def write():
        MatchResult.objects.filter(pk__in=ids).update(updated_at=timezone.now())

    return write


def pages() -> list[tuple[str, str, dict]]:
    from metajudge.audit.triage import QueueFilters, cursor_of, spurious_queue
    from metajudge.models import MatchResult, MatchRun

    hx = {"HTTP_HX_REQUEST": "true"}
    run = MatchRun.objects.get(critic__name="critic-00")
    queue = spurious_queue(run, QueueFilters())
    depth = queue.count() // 2
    deep = queue[depth : depth + 1].get()
    case = MatchResult.objects.filter(pk__in=queue.values("pk")[:1]).get()
    triage = "/audit/bench/triage/?critic=critic-00"
    fresh = {"HTTP_HX_TARGET": "figures", **hx}
    return [
        ("dashboard (full page)", "/audit/bench/", {}),
        (
            "dashboard, a threshold not seen before (htmx)",
            lambda i: f"/audit/bench/?threshold={0.5 + (i + 4) / 1000:.3f}",
            fresh,
        ),
        (
            "dashboard figures (htmx, threshold 0.3)",
            "/audit/bench/?threshold=0.3",
            {**hx, "HTTP_HX_TARGET": "figures"},
        ),
        (
            "breakdown by domain (htmx)",
            "/audit/bench/?by=domain",
            {**hx, "HTTP_HX_TARGET": "breakdown"},
        ),
        (
            "breakdown by language (htmx)",
            "/audit/bench/?by=language",
            {**hx, "HTTP_HX_TARGET": "breakdown"},
        ),
        ("triage queue, first page", triage, {}),
        ("triage queue, domain=code, not reviewed", f"{triage}&domain=code&reviewed=no", {}),
        (f"triage queue, page after {depth:,} cases", f"{triage}&after={cursor_of(deep)}", {}),
        (
            "triage queue (htmx fragment)",
            f"{triage}&threshold=0.4",
            {**hx, "HTTP_HX_TARGET": "queue"},
        ),
        ("case page", f"/audit/cases/{case.pk}/?critic=critic-00", {}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=22116)
    parser.add_argument("--critics", type=int, default=20)
    parser.add_argument("--fresh", action="store_true", help="drop and reload the bench data")
    args = parser.parse_args()
    create_database(args.fresh)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from metajudge.models import MatchResult

    call_command("migrate", verbosity=0)
    if not MatchResult.objects.exists():
        print(f"loading {args.pairs} pairs x {args.critics} critics ...", flush=True)
        load(args.pairs, args.critics)
    setup_test_environment()
    client = Client()
    client.force_login(reviewer())
    print(
        f"{MatchResult.objects.count():,} match results in PostgreSQL ({DB_NAME}); "
        f"N={args.requests} per page"
    )
    report(client, args.requests, args.critics)


def report(client, n: int, n_critics: int) -> None:
    print(f"{'page':<48} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for name, url, headers in pages():
        p50, p95, queries = measure(client, url, n, headers)
        print(f"{name:<48} {p50:>8.1f} {p95:>8.1f} {queries:>8}", flush=True)
    for label, runs in (("one run", 1), ("every run", n_critics)):
        print(f"after a result of {label} was written (its cached figures are invalid):")
        for name, url, headers in pages()[:1] + pages()[3:5]:
            p50, p95, queries = measure(client, url, n, headers, touch(runs))
            print(f"{name:<48} {p50:>8.1f} {p95:>8.1f} {queries:>8}", flush=True)


if __name__ == "__main__":
    main()
