"""How far the offline matcher can be trusted on a user's own data: where a critic has both an
LLM-judged run (live or imported) and an offline run on a dataset, the per-sample agreement of
the two on the samples both scored."""

from __future__ import annotations

import hashlib
import math

from django.core.cache import cache

from annotate.models import Dataset
from metajudge.models import MatchResult, MatchRun
from metajudge.selectors import preference

S = MatchResult.Status
LLM_JUDGED = (MatchRun.Matcher.LLM, MatchRun.Matcher.IMPORT)
MATCH_AT = 0.5  # a human atom counts as matched to the model atom it scored at least this high


def matcher_agreement(runs: list[MatchRun]) -> list[dict]:
    """One row per critic with both kinds of run: the preferred run of each kind compared.
    `runs` are the dashboard's runs, each with all of its critic's scoring runs as
    `alternatives` (audit.selectors.audit_runs), so this costs no query when cached."""
    rows = []
    for run in runs:
        best: dict[str, MatchRun] = {}
        for alt in sorted(getattr(run, "alternatives", [run]), key=preference):
            best.setdefault("llm" if alt.matcher in LLM_JUDGED else "offline", alt)
        if len(best) == 2:
            rows.append(_cached(best["llm"], best["offline"]))
    return sorted(rows, key=lambda r: r["critic"])


def dataset_agreement(dataset: Dataset) -> list[dict]:
    """matcher_agreement for every critic of a dataset (for the API and scripts)."""
    runs = MatchRun.objects.filter(dataset=dataset).exclude(matcher=MatchRun.Matcher.VERDICT)
    by_critic: dict[int, list[MatchRun]] = {}
    for run in runs.select_related("critic"):
        by_critic.setdefault(run.critic_id, []).append(run)
    heads = []
    for alternatives in by_critic.values():
        head = alternatives[0]
        head.alternatives = alternatives
        heads.append(head)
    return matcher_agreement(heads)


def _cached(llm: MatchRun, offline: MatchRun) -> dict:
    state = [(r.pk, r.state, r.done_count, r.total, r.finished_at) for r in (llm, offline)]
    key = "agreement:" + hashlib.sha256(repr(state).encode()).hexdigest()
    row = cache.get(key)
    if row is None:
        row = compare(llm, offline)
        cache.set(key, row, timeout=600)
    return row


def _valid(run: MatchRun) -> dict[int, tuple[float, list]]:
    rows = MatchResult.objects.filter(run=run, status=S.VALID, stale=False)
    return {
        pair: (recall, lines)
        for pair, recall, lines in rows.values_list("pair_id", "recall", "lines")
    }


def best_match(lines: list) -> dict[int, int]:
    """Human atom -> the model atom it matched (0: none), from an answer's score lines."""
    best: dict[int, tuple[int, float]] = {}
    for i, j, score in lines:
        if i not in best or score > best[i][1]:
            best[int(i)] = (int(j), float(score))
    return {i: (j if score >= MATCH_AT else 0) for i, (j, score) in best.items()}


def compare(llm: MatchRun, offline: MatchRun) -> dict:
    a, b = _valid(llm), _valid(offline)
    common = sorted(set(a) & set(b))
    same = atoms = 0
    for pair in common:
        left, right = best_match(a[pair][1]), best_match(b[pair][1])
        for i in left.keys() | right.keys():
            atoms += 1
            same += left.get(i, 0) == right.get(i, 0)
    return {
        "critic": llm.critic.name,
        "llm_run": llm.pk,
        "llm_judge": llm.judge_model,
        "offline_run": offline.pk,
        "samples": len(common),
        "recall_correlation": pearson([a[p][0] for p in common], [b[p][0] for p in common]),
        "mean_recall_llm": _mean([a[p][0] for p in common]),
        "mean_recall_offline": _mean([b[p][0] for p in common]),
        "atoms": atoms,
        "same_match_share": same / atoms if atoms else None,
    }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def pearson(x: list[float], y: list[float]) -> float | None:
    """None when undefined (fewer than two samples, or no spread on a side)."""
    if len(x) < 2:
        return None
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((p - mx) * (q - my) for p, q in zip(x, y, strict=True))
    sxx = sum((p - mx) ** 2 for p in x)
    syy = sum((q - my) ** 2 for q in y)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)
