"""Server time of API list pages 1, 50 and 500 (30 rows each) at 22,116 pairs on PostgreSQL:
the pair list and a dataset's audit results, cursor pages vs numbered (OFFSET) pages.

    python3 ../shared/data/make_scale.py 22116 2 > /tmp/p22k.jsonl
    .venv/bin/python bench/api_pages.py /tmp/p22k.jsonl [--repeat 7]

Builds a PostgreSQL database of its own (BENCH_PG_DB, default rationale_bench_api), imports
the file with the import service (COPY, then ANALYZE), adds one finished run per critic with a
synthetic result per pair, then times each page through the Django test client (in process:
server time, no network) as a superuser. Prints the median ms and the query count per page.
Cursor pages are reached by following `next` (their position is an id, so page 500 costs what
page 1 costs); numbered pages are asked by `page=` (the audit list's numbered pages hold 100
rows: they take no page_size).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import fresh_database, setup_django  # noqa: E402

PAGES = (1, 50, 500)
SIZE = 30


def load(path: str) -> None:
    from django.db import connection

    from annotate.models import Dataset
    from annotate.services.imports import import_pairs
    from metajudge.models import Critic, Judgment, MatchResult, MatchRun

    started = time.perf_counter()
    with open(path, "rb") as stream:
        report = import_pairs(stream=stream, dataset_name="bench")
    print(f"imported {report.created:,} pairs in {time.perf_counter() - started:.1f} s")
    dataset = Dataset.objects.get(name="bench")
    rng = random.Random(13)
    for critic in Critic.objects.all():
        run = MatchRun.objects.create(
            dataset=dataset, critic=critic, matcher="import", judge_model="bench", state="done"
        )
        rows = Judgment.objects.filter(critic=critic, pair__dataset=dataset)
        MatchResult.objects.bulk_create(
            [
                MatchResult(
                    run=run,
                    pair_id=pair_id,
                    judgment_id=judgment_id,
                    status="valid",
                    label_correct=rng.random() < 0.8,
                    recall=rng.random(),
                    precision=rng.random(),
                    f1=rng.random(),
                    average_precision=rng.random(),
                )
                for judgment_id, pair_id in rows.values_list("pk", "pair_id").iterator()
            ],
            batch_size=5000,
        )
        n = MatchResult.objects.filter(run=run).count()
        MatchRun.objects.filter(pk=run.pk).update(total=n, done_count=n)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(client, url: str, repeat: int) -> tuple[float, int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, body, queries = [], None, 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code == 404:  # a numbered page past the end
            return None, 0, None
        assert response.status_code == 200, (url, response.status_code)
        body, queries = response.json(), len(ctx.captured_queries)
    return statistics.median(times), queries, body


def cursor_urls(client, first: str) -> dict[int, str]:
    """The URL of each cursor page in PAGES, by following `next` from the first."""
    urls, url, page = {}, first, 1
    while url and page <= max(PAGES):
        if page in PAGES:
            urls[page] = url
        url = client.get(url).json()["next"]
        page += 1
    return urls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_DEBUG", "1")  # plain HTTP in the test client
    setup_django(fresh_database("postgres", os.environ.get("BENCH_PG_DB", "rationale_bench_api")))
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    load(args.file)
    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("bench", password="pw"))
    lists = {
        "pairs": f"/api/v1/pairs/?dataset=bench&page_size={SIZE}",
        "audit": f"/api/v1/datasets/bench/audit/?page_size={SIZE}",
    }
    print(f"{'list':<8} {'mode':<9} {'page':>5} {'median ms':>10} {'queries':>8}")
    for name, base in lists.items():
        cursors = cursor_urls(client, base + "&cursor=")
        for page in PAGES:
            ms, queries, _ = timed(client, cursors[page], args.repeat)
            print(f"{name:<8} {'cursor':<9} {page:>5} {ms:>10.1f} {queries:>8}")
        for page in PAGES:
            ms, queries, _ = timed(client, f"{base}&page={page}", args.repeat)
            shown = f"{ms:>10.1f}" if ms is not None else f"{'past end':>10}"
            print(f"{name:<8} {'numbered':<9} {page:>5} {shown} {queries:>8}")


if __name__ == "__main__":
    main()
