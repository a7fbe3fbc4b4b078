"""A match records the human revision it scored; a newer revision makes it stale."""

from __future__ import annotations

from django.db.models import Count

from annotate.models import Checklist
from metajudge.models import MatchResult


def mark_pair_stale(pair_id: int) -> int:
    """Mark every finished match of this pair that scored an older revision. Returns count."""
    current = (
        Checklist.objects.filter(pair_id=pair_id, slot=0)
        .values_list("current_id", flat=True)
        .first()
    )
    results = MatchResult.objects.filter(pair_id=pair_id, stale=False).exclude(
        status=MatchResult.Status.PENDING
    )
    if current is not None:
        results = results.exclude(revision_id=current)
    return results.update(stale=True)


def mark_edited_since(items: list) -> int:
    """After results are written (same transaction): those whose checklist moved on while they
    were being scored are stale at once. Read after the write, so an edit that commits at any
    point either is seen here or finds the written row and marks it itself."""
    scored = {s.result.pk: (s.result.pair_id, s.result.revision_id) for s, _ in items}
    scored = {pk: v for pk, v in scored.items() if v[1] is not None}
    if not scored:
        return 0
    current = dict(
        Checklist.objects.filter(
            pair_id__in={pair for pair, _ in scored.values()}, slot=0
        ).values_list("pair_id", "current_id")
    )
    moved = [pk for pk, (pair, rev) in scored.items() if current.get(pair, rev) != rev]
    if not moved:
        return 0
    return MatchResult.objects.filter(pk__in=moved).update(stale=True)


def stale_counts_by_run(run_ids: list[int]) -> dict[int, int]:
    rows = (
        MatchResult.objects.filter(run_id__in=run_ids, stale=True)
        .values("run_id")
        .annotate(n=Count("pk"))
        .values_list("run_id", "n")
    )
    return dict(rows)
