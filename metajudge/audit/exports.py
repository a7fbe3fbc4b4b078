"""Audit results, one row per case, streamed as CSV or JSONL (never all rows in memory)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from annotate.csvsafe import safe_cell
from annotate.models import Dataset
from metajudge.audit.selectors import audit_runs
from metajudge.models import MatchResult

FIELDS = {
    "result_id": "pk",
    "pair_id": "pair_id",
    "pair_key": "pair__external_id",
    "domain": "pair__domain",
    "language": "pair__language",
    "critic": "run__critic__name",
    "run": "run_id",
    "matcher": "run__matcher",
    "judge_model": "run__judge_model",
    "status": "status",
    "stale": "stale",
    "label_correct": "label_correct",
    "precision": "precision",
    "recall": "recall",
    "f1": "f1",
    "average_precision": "average_precision",
    "verdict": "audit_verdict__kind",
    "comment": "audit_verdict__comment",
}
COLUMNS = [*FIELDS, "spurious"]
CHUNK = 2000


def audit_results(
    dataset: Dataset, *, critic: str = "", threshold: float, spurious_only: bool = False
) -> QuerySet:
    runs, _ = audit_runs(dataset)
    if critic:
        runs = [r for r in runs if r.critic.name == critic]
    qs = MatchResult.objects.filter(run__in=runs)
    if spurious_only:
        qs = qs.filter(status=MatchResult.Status.VALID, label_correct=True, recall__lt=threshold)
    return qs.order_by("run_id", "pair_id").values_list(*FIELDS.values())


def audit_results_by_id(
    dataset: Dataset, *, critic: str = "", threshold: float, spurious_only: bool = False
) -> QuerySet:
    """The same rows as dicts ordered by result id, for keyset (cursor) pages: `id > last`
    costs the same at any depth, where OFFSET reads every row before the page."""
    qs = audit_results(dataset, critic=critic, threshold=threshold, spurious_only=spurious_only)
    return qs.order_by("id").values("id", *FIELDS.values())


def rows_from_dicts(values_rows, threshold: float) -> list[dict]:
    names = list(FIELDS.values())
    return [_row(tuple(v[n] for n in names), threshold) for v in values_rows]


def iter_rows(qs: QuerySet, threshold: float) -> Iterator[dict]:
    for values in qs.iterator(chunk_size=CHUNK):
        yield _row(values, threshold)


def iter_rows_list(values_rows, threshold: float) -> list[dict]:
    return [_row(values, threshold) for values in values_rows]


def _row(values: tuple, threshold: float) -> dict:
    row = dict(zip(FIELDS, values, strict=True))
    row["verdict"] = row["verdict"] or ""
    row["comment"] = row["comment"] or ""
    row["spurious"] = bool(
        row["status"] == MatchResult.Status.VALID
        and row["label_correct"]
        and row["recall"] is not None
        and row["recall"] < threshold
    )
    return row


def iter_jsonl(qs: QuerySet, threshold: float) -> Iterator[str]:
    for row in iter_rows(qs, threshold):
        yield json.dumps(row, ensure_ascii=False) + "\n"


def iter_csv(qs: QuerySet, threshold: float) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in iter_rows(qs, threshold):
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
