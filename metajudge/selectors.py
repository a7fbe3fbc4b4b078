"""Reads for MetaJudge figures, aggregated in SQL so they stay fast at any dataset size."""

from __future__ import annotations

import math
from collections.abc import Collection

from django.db import connection
from django.db.models import (
    Avg,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    StdDev,
    Value,
)

from annotate.models import Dataset
from metajudge.method import scoring
from metajudge.models import MatchResult, MatchRun

S = MatchResult.Status
METRICS = ("precision", "recall", "f1", "average_precision")
VALID = Q(status=S.VALID)


# An LLM judge's figures (a live run, or imported reference output) win over the offline
# approximation; within a rank, the newest run.
MATCHER_RANK = {MatchRun.Matcher.LLM: 0, MatchRun.Matcher.IMPORT: 0, MatchRun.Matcher.OFFLINE: 1}


def preference(run: MatchRun) -> tuple:
    return (MATCHER_RANK.get(run.matcher, 2), -run.created_at.timestamp(), -run.pk)


def preferred_runs(runs, chosen: Collection[int] = ()) -> dict[int, MatchRun]:
    """{critic id: run}: the run a user chose for the critic, else the preferred one."""
    best: dict[int, MatchRun] = {}
    for run in runs:
        current = best.get(run.critic_id)
        if current is None or _beats(run, current, chosen):
            best[run.critic_id] = run
    return best


def _beats(run: MatchRun, current: MatchRun, chosen: Collection[int]) -> bool:
    if (run.pk in chosen) != (current.pk in chosen):
        return run.pk in chosen
    return preference(run) < preference(current)


def latest_runs(
    dataset: Dataset, *, critic: str = "", matcher: str = "", chosen: Collection[int] = ()
) -> list[MatchRun]:
    """The figures' run per critic (verdict runs apart): see preferred_runs."""
    runs = MatchRun.objects.filter(dataset=dataset).exclude(matcher=MatchRun.Matcher.VERDICT)
    if critic:
        runs = runs.filter(critic__name=critic)
    if matcher:
        runs = runs.filter(matcher=matcher)
    best = preferred_runs(runs.select_related("critic", "template"), chosen)
    return sorted(best.values(), key=lambda r: r.critic.name)


# One-pass variance E[x^2] - E[x]^2 loses digits to cancellation when the values are nearly
# equal; below this share of E[x^2] (std under 1% of the RMS) a metric gets the two-pass figure.
ONE_PASS_FLOOR = 1e-4


def _aggregates(threshold: float, *, one_pass_std: bool = False) -> dict:
    valid_correct = VALID & Q(label_correct=True)
    fields = {
        "total_samples": Count("pk"),
        "valid_samples": Count("pk", filter=VALID),
        "error_samples": Count("pk", filter=Q(status=S.ERROR)),
        "skipped_samples": Count("pk", filter=Q(status=S.SKIPPED)),
        "pending_samples": Count("pk", filter=Q(status__in=[S.PENDING, S.CLAIMED])),
        "stale_samples": Count("pk", filter=Q(stale=True)),
        "labeled": Count("pk", filter=Q(label_correct__isnull=False)),
        "n_label_correct": Count("pk", filter=Q(label_correct=True)),
        "valid_label_correct": Count("pk", filter=valid_correct),
        "spurious_correct": Count("pk", filter=valid_correct & Q(recall__lt=threshold)),
    }
    for name in METRICS:
        # Prefixed: an annotation may not shadow the field it aggregates.
        fields[f"mean_{name}"] = Avg(name, filter=VALID)
        if one_pass_std:
            square = ExpressionWrapper(F(name) * F(name), output_field=FloatField())
            fields[f"meansq_{name}"] = Avg(square, filter=VALID)
        else:
            fields[f"std_{name}"] = StdDev(name, filter=VALID, sample=False)
    return fields


def run_figures(
    runs: list[MatchRun],
    *,
    threshold: float = scoring.SPURIOUS_RECALL_THRESHOLD,
    results: QuerySet | None = None,
) -> list[dict]:
    """One dict per run with the report's keys; `results` may narrow the samples (domain...)."""
    base = results if results is not None else MatchResult.objects.all()
    # SQLite has no native STDDEV_POP (a Python aggregate called per row: about 1 s for the
    # 20-critic report at 442,320 results); there the std comes from the moments of this query.
    one_pass = connection.vendor == "sqlite"
    rows = {
        row["run_id"]: row
        for row in base.filter(run__in=runs)
        .order_by()
        .values("run_id")
        .annotate(**_aggregates(threshold, one_pass_std=one_pass))
    }
    if one_pass:
        for run_id, row in rows.items():
            row.update(_std_from_moments(base.filter(run_id=run_id), row))
    return [_figures(run, rows.get(run.pk, {}), threshold) for run in runs]


def _std_from_moments(results: QuerySet, row: dict) -> dict:
    stds, nearly_constant = {}, []
    for name in METRICS:
        mean, meansq = row.get(f"mean_{name}"), row.get(f"meansq_{name}")
        if mean is None or meansq is None:
            continue
        variance = meansq - mean * mean
        if variance > ONE_PASS_FLOOR * meansq:
            stds[f"std_{name}"] = math.sqrt(variance)
        else:
            nearly_constant.append(name)
    if nearly_constant:
        stds.update(_two_pass_std(results, row, nearly_constant))
    return stds


def _two_pass_std(results: QuerySet, row: dict, names: list[str]) -> dict:
    """Population std as sqrt(mean((x - mean)^2)), the means taken from the first pass."""
    deviations = {
        name: ExpressionWrapper(F(name) - Value(row[f"mean_{name}"]), output_field=FloatField())
        for name in names
    }
    found = results.order_by().aggregate(
        **{f"var_{n}": Avg(d * d, filter=VALID) for n, d in deviations.items()}
    )
    return {
        f"std_{key[4:]}": math.sqrt(max(value, 0.0))
        for key, value in found.items()
        if value is not None
    }


def _figures(run: MatchRun, row: dict, threshold: float) -> dict:
    labeled, correct = row.get("labeled", 0), row.get("n_label_correct", 0)
    valid_correct = row.get("valid_label_correct", 0)
    figures = {
        "critic": run.critic.name,
        "run": run.pk,
        "matcher": run.matcher,
        "judge_model": run.judge_model,
        "template": f"{run.template.name} v{run.template.version}" if run.template_id else "",
        "skip_unscorable": run.skip_unscorable,
        "state": run.state,
        "threshold": threshold,
        **{
            k: row.get(k, 0)
            for k in (
                "total_samples",
                "valid_samples",
                "error_samples",
                "skipped_samples",
                "pending_samples",
                "stale_samples",
                "spurious_correct",
            )
        },
        "label_correct": correct,
        "valid_label_correct": valid_correct,
    }
    for name in METRICS:
        figures[name] = row.get(f"mean_{name}") or 0.0
        figures[f"{name}_std"] = row.get(f"std_{name}") or 0.0
    figures["outcome_accuracy"] = correct / labeled if labeled else 0.0
    figures["rationale_consistency"] = figures["recall"]
    figures["s_corr"] = row.get("spurious_correct", 0) / valid_correct if valid_correct else 0.0
    figures["f_score"] = figures["outcome_accuracy"] * (1 - figures["s_corr"])
    return figures


def critic_figures(
    dataset: Dataset, *, critic: str = "", threshold: float = 0.5, chosen: Collection[int] = ()
) -> list[dict]:
    return run_figures(latest_runs(dataset, critic=critic, chosen=chosen), threshold=threshold)


def verdict_figures(dataset: Dataset, *, critic: str = "") -> dict[str, dict]:
    """Verdict-mode S-Corr and F-Score per critic, from its newest verdict run."""
    runs = MatchRun.objects.filter(dataset=dataset, matcher=MatchRun.Matcher.VERDICT)
    if critic:
        runs = runs.filter(critic__name=critic)
    newest: dict[int, MatchRun] = {}
    for run in runs.select_related("critic").order_by("critic_id", "-created_at", "-pk"):
        newest.setdefault(run.critic_id, run)
    rows = {
        row["run_id"]: row
        for row in MatchResult.objects.filter(run__in=newest.values())
        .order_by()
        .values("run_id")
        .annotate(
            labeled=Count("pk", filter=Q(label_correct__isnull=False)),
            n_label_correct=Count("pk", filter=Q(label_correct=True)),
            verdicts=Count("pk", filter=VALID),
            # exactly "correct" after trimming (parse_verdict) and lowercasing (iexact)
            correct=Count("pk", filter=VALID & Q(verdict__iexact="correct")),
        )
    }
    figures = {}
    for run in newest.values():
        row = rows.get(run.pk, {})
        labeled = row.get("labeled", 0)
        accuracy = row.get("n_label_correct", 0) / labeled if labeled else 0.0
        correct, verdicts = row.get("correct", 0), row.get("verdicts", 0)
        result = scoring.verdict_mode(correct, verdicts - correct, accuracy)
        figures[run.critic.name] = {
            "run": run.pk,
            "verdict_correct": correct,
            "verdict_incorrect": verdicts - correct,
            "outcome_accuracy": accuracy,
            "s_corr_verdict": result["s_corr"],
            "f_score_verdict": result["f_score"],
        }
    return figures
