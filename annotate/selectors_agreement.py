"""Human-vs-human agreement: the rationale consistency of annotators with each other, the
ceiling that model scores are read against (matched by the offline MetaJudge matcher)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from annotate.models import Checklist, Dataset
from metajudge.method.scoring import VALID, score_sample

AGREEMENT_STATUSES = ("submitted", "approved")


@lru_cache(maxsize=8192)
def _directed_recall(human: tuple[str, ...], other: tuple[str, ...]) -> float | None:
    """Recall of `human` against `other` read as the "model" side, by the MetaJudge rules."""
    # Not at the top: the offline matchers load numpy and scipy (most of a second), and every
    # process imports this module at start (annotate's ready() connects the agreement task);
    # only the worker that computes agreement needs them. annotate -> method is the allowed way.
    from metajudge.method.matchers import get_matcher  # noqa: PLC0415

    text = get_matcher().match(list(human), list(other))
    score = score_sample(
        text,
        len(human),
        len(other),
        max_checklist_len=getattr(settings, "METAJUDGE_MAX_CHECKLIST_LEN", 10),
        precision_cap=getattr(settings, "METAJUDGE_PRECISION_CAP", 5),
    )
    return score.recall if score.status == VALID else None


def pair_agreement(checklists: list[list[str]]) -> float | None:
    """Mean over checklist pairs of (recall a->b + recall b->a) / 2 (None: unscorable)."""
    values = []
    for i, a in enumerate(checklists):
        for b in checklists[i + 1 :]:
            ab, ba = _directed_recall(tuple(a), tuple(b)), _directed_recall(tuple(b), tuple(a))
            if ab is not None and ba is not None:
                values.append((ab + ba) / 2)
    return sum(values) / len(values) if values else None


def _interval(values: list[float]) -> dict:
    """A normal-approximation 95% interval of the mean pair agreement, clipped to [0, 1]."""
    n = len(values)
    if n < 2:
        return {"ci_low": None, "ci_high": None}
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5
    half = 1.96 * sd / n**0.5
    return {"ci_low": max(0.0, mean - half), "ci_high": min(1.0, mean + half)}


def human_agreement(
    dataset: Dataset, *, with_pairs: bool = False, with_interval: bool = False
) -> dict:
    """Human-vs-human rationale consistency: the ceiling that model scores are read against.

    Pairs count when they hold >= 2 submitted or approved human checklists (imported ones
    included). Matching uses the offline MetaJudge matcher, so it needs no LLM.
    """
    rows = (
        Checklist.objects.filter(
            pair__dataset=dataset, status__in=AGREEMENT_STATUSES, current__isnull=False
        )
        .order_by("pair_id", "slot")
        .values_list("pair_id", "current__atoms")
    )
    by_pair: dict[int, list[list[str]]] = {}
    for pair_id, atoms in rows:
        if atoms:
            by_pair.setdefault(pair_id, []).append(list(atoms))
    return agreement_summary(by_pair, with_pairs=with_pairs, with_interval=with_interval)


def agreement_summary(
    by_pair: dict[int, list[list[str]]], *, with_pairs: bool = False, with_interval: bool = False
) -> dict:
    """human_agreement from each pair's checklists (atoms, in slot order)."""
    scored = {
        pair_id: pair_agreement(lists) for pair_id, lists in by_pair.items() if len(lists) >= 2
    }
    values = [v for v in scored.values() if v is not None]
    result = {
        "pairs": len(values),
        "candidates": len(scored),
        "skipped": len(scored) - len(values),
        "mean_recall": sum(values) / len(values) if values else None,
        "min_recall": min(values) if values else None,
        "max_recall": max(values) if values else None,
        "matcher": "offline",
    }
    if with_interval:
        result.update(_interval(values))
    if with_pairs:
        result["per_pair"] = sorted(scored.items())
    return result
