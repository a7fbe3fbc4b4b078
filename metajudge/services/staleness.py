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


def stale_counts_by_run(run_ids: list[int]) -> dict[int, int]:
    rows = (
        MatchResult.objects.filter(run_id__in=run_ids, stale=True)
        .values("run_id")
        .annotate(n=Count("pk"))
        .values_list("run_id", "n")
    )
    return dict(rows)
