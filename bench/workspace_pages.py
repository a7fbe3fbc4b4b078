"""Server time of the annotator workspace pages with 22,116 pairs loaded.

    DJANGO_SETTINGS_MODULE=tests.settings \
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rationale_bench \
    .venv/bin/python bench/workspace_pages.py [--requests 50] [--pairs 22116]

Creates a throw-away test database (Django's test DB utilities: test_<name>), bulk-loads synthetic
pairs shaped like the real data (half with an imported checklist, half still to do; Markdown and
code in the responses), claims a realistic amount of work for one annotator, then times the
queue page, the pair page and a claim through the Django test client and prints p50/p95 in ms
with the query count of each page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

BATCH = 2000
DOMAINS = ["code", "general", "stem", "multilingual"]


def response_text(i: int, side: int) -> str:
    return (
        f"## Answer {i}.{side}\n\nHere is a **careful** answer with a list:\n\n"
        + "".join(f"- point {k} about item {i}\n" for k in range(6))
        + f"\n```python\ndef solve_{i}(xs):\n    return sorted(xs)[:{side + 2}]\n```\n\n"
        + ("Some more prose to make the response realistically long. " * 12)
    )


def load(n_pairs: int):
    from annotate.access import ANNOTATOR
    from annotate.models import Checklist, ChecklistRevision, Dataset, Pair
    from annotate.services.accounts import roles_ensure, user_ensure

    roles_ensure()
    dataset = Dataset.objects.create(name="bench")
    user = user_ensure(username="ann", password="pw", role=ANNOTATOR, datasets=[dataset])
    for start in range(0, n_pairs, BATCH):
        pairs = Pair.objects.bulk_create(
            [
                Pair(
                    dataset=dataset,
                    key=f"k{i}",
                    external_id=f"hs3-{i}",
                    position=i + 1,
                    domain=DOMAINS[i % len(DOMAINS)],
                    language="english",
                    context=[{"role": "user", "content": f"Question {i}: sort these numbers."}],
                    response_1=response_text(i, 1),
                    response_2=response_text(i, 2),
                    preference=1 + i % 2,
                    preference_strength=-2 if i % 2 == 0 else 2,
                    human_reasons=[f"Reason {i} one", f"Reason {i} two"],
                    source_format="helpsteer3",
                    raw_json="{}",
                )
                for i in range(start, min(start + BATCH, n_pairs))
            ]
        )
        imported = [p for p in pairs if p.position % 2 == 0]
        checklists = Checklist.objects.bulk_create(
            [Checklist(pair=p, slot=0, status="submitted", version=1) for p in imported]
            + [Checklist(pair=p, slot=0) for p in pairs if p.position % 2 == 1]
        )
        revisions = ChecklistRevision.objects.bulk_create(
            [
                ChecklistRevision(
                    checklist=c,
                    number=1,
                    source="import",
                    atoms=[f"Response 1 keeps step {k} of item {c.pair_id}." for k in range(4)],
                )
                for c in checklists[: len(imported)]
            ]
        )
        for c, r in zip(checklists, revisions, strict=False):
            c.current = r
        Checklist.objects.bulk_update(checklists[: len(imported)], ["current"])
    return dataset, user


def claim_work(user, n: int) -> list[int]:
    """Give the annotator some history: claimed, saved and submitted checklists."""
    from annotate.selectors import claimable_pairs
    from annotate.services.assignments import checklist_claim_next
    from annotate.services.checklists import checklist_save, checklist_submit

    ids = []
    for i in range(n):
        checklist = checklist_claim_next(user=user, pairs=claimable_pairs(user))
        atoms = [f"Response 1 sorts item {i} in line {k}." for k in range(3)]
        checklist_save(checklist_id=checklist.pk, user=user, atoms=atoms, version=0)
        if i % 3 == 0:
            checklist_submit(checklist_id=checklist.pk, user=user, version=1)
        ids.append(checklist.pk)
    return ids


def timed(client, method: str, urls: list[str], **headers) -> tuple[list[float], int]:
    """client: one Client, or a list of them (one per request)."""
    samples, queries = [], 0
    clients = client if isinstance(client, list) else [client] * len(urls)
    for c, url in zip(clients, urls, strict=True):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = getattr(c, method)(url, **headers)
            samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 302), (url, response.status_code)
        queries = max(queries, len(ctx.captured_queries))
    return samples, queries


def claimers(user, n: int) -> list[Client]:
    """Fresh annotators of the same dataset, so that every POST really claims a new slot."""
    from annotate.access import ANNOTATOR
    from annotate.services.accounts import user_ensure

    clients = []
    for i in range(n):
        other = user_ensure(
            username=f"claimer{i}",
            password="pw",
            role=ANNOTATOR,
            datasets=list(user.datasets.all()),
        )
        c = Client()
        c.force_login(other)
        clients.append(c)
    return clients


def report(name: str, samples: list[float], queries: int) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    print(
        f"{name:<34} n={len(samples):<4} p50={statistics.median(samples):7.1f} ms  "
        f"p95={p95:7.1f} ms  max queries={queries}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=22116)
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        _, user = load(args.pairs)
        ids = claim_work(user, 120)
        if connection.vendor == "postgresql":
            # What autovacuum does after a bulk import: planner statistics and the visibility
            # map (index-only scans for the counts). Without it the planner guesses 111 rows.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        print(
            f"{connection.vendor}: loaded {args.pairs:,} pairs and 120 claims in "
            f"{time.perf_counter() - started:.1f} s"
        )
        client = Client()
        client.force_login(user)
        n = args.requests
        client.get("/annotate/")  # warm-up (templates, connections)
        report("queue page  GET /annotate/", *timed(client, "get", ["/annotate/"] * n))
        report(
            "queue fragment (htmx, filtered)",
            *timed(
                client,
                "get",
                [f"/annotate/?domain={DOMAINS[i % 4]}&status=in_progress" for i in range(n)],
                HTTP_HX_REQUEST="true",
            ),
        )
        pages = [f"/annotate/checklists/{ids[i % len(ids)]}/" for i in range(n)]
        report("pair page   GET /annotate/checklists/<id>/", *timed(client, "get", pages))
        report("pair page   (repeat, Markdown cached)", *timed(client, "get", pages))
        report(
            "claim       POST /annotate/next/",
            *timed(claimers(user, n), "post", ["/annotate/next/"] * n),
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
