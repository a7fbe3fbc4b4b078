"""Verdict figures of the audit dashboard: the binary meta-judge's (R-Align verdict mode) per
run, and the reviewers' verdicts per run with what they say of the matcher's precision."""

from __future__ import annotations

from django.db.models import Count, Q
from django.db.models.functions import Lower, Trim

from metajudge.method import scoring
from metajudge.models import AuditVerdict, MatchResult, MatchRun

V = AuditVerdict.Kind


def verdict_mode_figures(runs: list[MatchRun]) -> dict[int, dict]:
    """R-Align figures of the binary meta-judge runs, keyed by run id."""
    if not runs:
        return {}
    said_correct = Q(verdict_norm="correct")
    rows = (
        MatchResult.objects.filter(run__in=runs)
        .order_by()
        .annotate(verdict_norm=Lower(Trim("verdict")))
        .values("run_id")
        .annotate(
            labeled=Count("pk", filter=Q(label_correct__isnull=False)),
            n_correct_label=Count("pk", filter=Q(label_correct=True)),
            judged_ok=Count("pk", filter=Q(label_correct=True) & said_correct),
            judged_bad=Count("pk", filter=Q(label_correct=True) & ~said_correct & ~Q(verdict="")),
        )
    )
    by_run = {row["run_id"]: row for row in rows}
    out = {}
    for run in runs:
        row = by_run.get(run.pk, {})
        labeled = row.get("labeled", 0)
        accuracy = row.get("n_correct_label", 0) / labeled if labeled else 0.0
        figures = scoring.verdict_mode(row.get("judged_ok", 0), row.get("judged_bad", 0), accuracy)
        out[run.pk] = {
            **figures,
            "run": run.pk,
            "judged": row.get("judged_ok", 0) + row.get("judged_bad", 0),
        }
    return out


def verdict_counts(runs: list[MatchRun]) -> dict[int, dict[str, int]]:
    """Reviewer verdicts per run: {run_id: {kind: n}}."""
    counts: dict[int, dict[str, int]] = {run.pk: {} for run in runs}
    rows = (
        AuditVerdict.objects.filter(result__run__in=runs)
        .order_by()
        .values_list("result__run_id", "kind")
        .annotate(n=Count("pk"))
    )
    for run_id, kind, n in rows:
        counts[run_id][kind] = n
    return counts


def matcher_confirmation(counts: dict[str, int]) -> dict:
    """The app's own measure of its matcher's precision: flags a reviewer confirmed."""
    confirmed, refuted = counts.get(V.DECEPTIVE, 0), counts.get(V.MATCHER_ERROR, 0)
    decided = confirmed + refuted
    return {
        "reviewed": sum(counts.values()),
        "confirmed": confirmed,
        "refuted": refuted,
        "incomplete": counts.get(V.CHECKLIST_INCOMPLETE, 0),
        "other": counts.get(V.OTHER, 0),
        "precision": confirmed / decided if decided else None,
    }
