"""Reads for the reviewer audit dashboard: per-critic figures, breakdowns, the human ceiling.

Figures are aggregated in SQL (one query per kind of figure, whatever the number of samples) and
cached per run until that run changes. The triage queue and case reads are in audit/triage.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from itertools import combinations

from django.core.cache import cache
from django.db.models import Count, IntegerField, OuterRef, Subquery

from annotate.dispatch import agreement_for
from annotate.models import Dataset
from metajudge.audit.matcher_agreement import matcher_agreement
from metajudge.audit.verdicts import matcher_confirmation, verdict_counts, verdict_mode_figures
from metajudge.method import scoring
from metajudge.models import MatchResult, MatchRun
from metajudge.selectors import _aggregates, _figures, preferred_runs, run_figures

S = MatchResult.Status
PAGE_SIZE = 25
BREAKDOWNS = {"domain": "pair__domain", "language": "pair__language"}
# "Similar accuracy, very different consistency": the pattern the scatter plot must make obvious.
SIMILAR_ACCURACY = 0.05
DIFFERENT_CONSISTENCY = 0.15
FIGURES_TTL = 600  # seconds


def parse_threshold(raw: str | None, default: float = scoring.SPURIOUS_RECALL_THRESHOLD) -> float:
    try:
        value = float(raw) if raw not in (None, "") else default
    except ValueError:
        return default
    return min(max(value, 0.0), 1.0) if value == value else default  # NaN -> default


def chosen_runs(params) -> set[int]:
    """The runs a user picked on the dashboard (`?run=12&run=15`), one per critic."""
    return {int(v) for v in params.getlist("run") if v.isdigit() and len(v) < 12}


# --- runs ---------------------------------------------------------------------------------------


def audit_runs(
    dataset: Dataset, chosen: Collection[int] = ()
) -> tuple[list[MatchRun], list[MatchRun]]:
    """The figures' scoring run (selectors.preferred_runs) and the newest verdict run per critic,
    in one query; every scoring run of a critic is kept on its run as `alternatives`.

    Each run carries `last_write` and `n_stale` (two indexed look-ups per run): with the run's
    own counters they change whenever its figures can, so figures are cached on them.
    """
    last = MatchResult.objects.filter(run=OuterRef("pk")).order_by("-updated_at")
    stale = (
        MatchResult.objects.filter(run=OuterRef("pk"), stale=True)
        .order_by()
        .values("run")
        .annotate(n=Count("pk"))
        .values("n")
    )
    runs = list(
        MatchRun.objects.filter(dataset=dataset)
        .select_related("critic", "template")
        .annotate(
            last_write=Subquery(last.values("updated_at")[:1]),
            n_stale=Subquery(stale, output_field=IntegerField()),
        )
        .order_by("critic_id", "-created_at", "-pk")
    )
    scoring_runs = [r for r in runs if r.matcher != MatchRun.Matcher.VERDICT]
    atom = sorted(preferred_runs(scoring_runs, chosen).values(), key=lambda r: r.critic.name)
    for run in atom:
        run.alternatives = [r for r in scoring_runs if r.critic_id == run.critic_id]
    newest: dict[int, MatchRun] = {}
    for run in runs:
        if run.matcher == MatchRun.Matcher.VERDICT:
            newest.setdefault(run.critic_id, run)
    verdict = sorted(newest.values(), key=lambda r: r.critic.name)
    return atom, verdict


def _run_key(run: MatchRun, parts: tuple) -> str:
    state = (
        run.pk,
        run.state,
        run.total,
        run.done_count,
        run.error_count,
        str(getattr(run, "last_write", "")),
        getattr(run, "n_stale", None),
        parts,
    )
    return "audit:" + hashlib.sha256(repr(state).encode()).hexdigest()


def per_run(runs: list[MatchRun], parts: tuple, compute) -> dict[int, object]:
    """{run id: value}, cached per run; `compute(missing runs)` fills in only the runs that changed.

    A run's counters move with every sample the engine finishes, `last_write` with every result
    written, `n_stale` when a checklist fix marks results stale; FIGURES_TTL bounds what none of
    these sees (rows deleted by hand). While one run is scored, the others stay cached.
    """
    keys = {run.pk: _run_key(run, parts) for run in runs}
    found = cache.get_many(list(keys.values())) if keys else {}
    missing = [run for run in runs if keys[run.pk] not in found]
    fresh = compute(missing) if missing else {}
    if fresh:
        cache.set_many({keys[pk]: value for pk, value in fresh.items()}, timeout=FIGURES_TTL)
    return {pk: found[key] if key in found else fresh.get(pk) for pk, key in keys.items()}


# --- dashboard ----------------------------------------------------------------------------------


def divergent_pairs(rows: list[dict]) -> list[tuple[dict, dict]]:
    """Critics whose outcome accuracy is close but whose rationale consistency is far apart."""
    found = []
    for a, b in combinations(rows, 2):
        close = abs(a["outcome_accuracy"] - b["outcome_accuracy"]) <= SIMILAR_ACCURACY
        far = abs(a["rationale_consistency"] - b["rationale_consistency"]) >= DIFFERENT_CONSISTENCY
        if close and far and a["valid_samples"] and b["valid_samples"]:
            found.append(
                (a, b) if a["rationale_consistency"] >= b["rationale_consistency"] else (b, a)
            )
    gap = lambda p: p[1]["rationale_consistency"] - p[0]["rationale_consistency"]  # noqa: E731
    return sorted(found, key=gap)


def atom_figures(runs: list[MatchRun], threshold: float) -> list[dict]:
    """run_figures' report, cached per run; a new threshold only recounts the spurious cases.

    The full aggregate reads every result of a run; the recount is an index-only scan of
    `result_triage_idx`, so moving the threshold stays fast on a large dataset.
    """
    base = per_run(
        runs, ("base",), lambda missing: {row["run"]: row for row in run_figures(missing)}
    )
    counts = per_run(
        runs, ("spurious", threshold), lambda missing: _spurious_counts(missing, threshold)
    )
    return [_rethreshold(base[run.pk], counts[run.pk], threshold) for run in runs]


def _spurious_counts(runs: list[MatchRun], threshold: float) -> dict[int, int]:
    counts = dict(
        MatchResult.objects.filter(
            run__in=runs, status=S.VALID, label_correct=True, recall__lt=threshold
        )
        .order_by()
        .values_list("run_id")
        .annotate(n=Count("pk"))
    )
    return {run.pk: counts.get(run.pk, 0) for run in runs}


def _rethreshold(row: dict, spurious: int, threshold: float) -> dict:
    """The threshold-dependent keys, as selectors._figures defines them."""
    s_corr = spurious / row["valid_label_correct"] if row["valid_label_correct"] else 0.0
    return {
        **row,
        "threshold": threshold,
        "spurious_correct": spurious,
        "s_corr": s_corr,
        "f_score": row["outcome_accuracy"] * (1 - s_corr),
    }


def human_ceiling(dataset: Dataset) -> dict:
    """Annotator agreement as a worker last stored it (annotate.dispatch.agreement_for): the
    offline matcher over every multi-checklist pair is far too slow for each page view. One
    query reads the checklists' fingerprint and the stored value; a changed fingerprint asks
    the worker to compute it again, and the page says when it was computed."""
    return agreement_for(dataset)


def dashboard(dataset: Dataset, *, threshold: float, chosen: Collection[int] = ()) -> dict:
    atom_runs, verdict_runs = audit_runs(dataset, chosen)
    rows = atom_figures(atom_runs, threshold)
    by_verdict = per_run(verdict_runs, ("verdict",), verdict_mode_figures)
    by_critic = {run.critic_id: by_verdict[run.pk] for run in verdict_runs}
    counts = verdict_counts(atom_runs)
    for run, row in zip(atom_runs, rows, strict=True):
        row["verdict_mode"] = by_critic.get(run.critic_id)
        row["review"] = matcher_confirmation(counts[run.pk])
        row["alternatives"] = run.alternatives
    pairs = divergent_pairs(rows)
    for a, b in pairs:
        a["divergent"] = b["divergent"] = True
    totals: dict[str, int] = {}
    for run_counts in counts.values():
        for kind, n in run_counts.items():
            totals[kind] = totals.get(kind, 0) + n
    return {
        "rows": rows,
        "mixed_matchers": len({r["matcher"] == "offline" for r in rows}) > 1,
        "agreement": matcher_agreement(atom_runs),
        "divergent": pairs,
        "ceiling": human_ceiling(dataset),
        "review": matcher_confirmation(totals),
        "threshold": threshold,
    }


def breakdown(dataset: Dataset, *, by: str, threshold: float, chosen: Collection[int] = ()) -> dict:
    """Per critic x domain (or language) figures, one grouped query."""
    field = BREAKDOWNS[by]
    runs, _ = audit_runs(dataset, chosen)
    per_group = per_run(
        runs, ("breakdown", by, threshold), lambda missing: _grouped(missing, field, threshold)
    )
    cells: dict[tuple[int, str], dict] = {}
    groups: set[str] = set()
    for run in runs:
        for group, figures in per_group[run.pk].items():
            groups.add(group)
            cells[(run.pk, group)] = figures
    ordered = sorted(groups)
    table = [
        {"critic": run.critic.name, "cells": [cells.get((run.pk, g)) for g in ordered]}
        for run in runs
    ]
    return {"by": by, "groups": ordered, "table": table}


def _grouped(runs: list[MatchRun], field: str, threshold: float) -> dict[int, dict]:
    by_pk = {run.pk: run for run in runs}
    out: dict[int, dict] = {run.pk: {} for run in runs}
    rows = (
        MatchResult.objects.filter(run__in=runs)
        .order_by()
        .values("run_id", field)
        .annotate(**_aggregates(threshold))
    )
    for row in rows:
        out[row["run_id"]][row[field] or "(none)"] = _figures(by_pk[row["run_id"]], row, threshold)
    return out
