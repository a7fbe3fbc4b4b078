"""Hybrid reward for RL loops: outcome (label correct) + lambda x rationale (AP of the GenRM's
atoms against the pair's current human checklist), scored by the MetaJudge engine's own code.

The rationale figure is exactly what a MetaJudge run would store for the same atoms:
`scoring.score_sample` over the offline matcher's answer, or over an LLM judge's answer that is
looked up in (and added to) the shared result cache first. Per-item problems come back per item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings

from annotate.access import REVIEWER, datasets_with_role, has_role
from annotate.models import Pair
from metajudge.matching.chunks import cache_key
from metajudge.method import genrm_parsing, scoring
from metajudge.method.matchers import get_matcher
from metajudge.models import MatchRun
from metajudge.reward.cache import cached_answers_add, endpoint_for_reward
from metajudge.reward.llm_matcher import answer_with_llm
from metajudge.reward.selectors import reward_pairs

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass
class RewardInput:
    generated_text: str
    pair_id: int | None = None
    human_atoms: list[str] | None = None
    preference: int | None = None
    atoms: list[str] | None = None
    matcher: str = "offline"
    endpoint: str = ""
    lam: float = 1.0


@dataclass
class Scored:
    """One item on its way through: what we know so far, and its error if any."""

    item: RewardInput
    human: list[str] = field(default_factory=list)
    preference: int | None = None
    label: int | None = None
    atoms: list[str] = field(default_factory=list)
    atoms_source: str = ""
    answer: str | None = None
    cached: bool = False
    error: str = ""


def reward_score(*, user, items: list[RewardInput]) -> list[dict]:
    """Score every item; the list that comes back is in the same order."""
    scored = [Scored(item) for item in items]
    _resolve_pairs(user, scored)
    for s in scored:
        if not s.error:
            _read_answer(s)
    live = [s for s in scored if not s.error and s.atoms]
    offline = [s for s in live if s.item.matcher == MatchRun.Matcher.OFFLINE]
    matcher = get_matcher() if offline else None
    if matcher is not None:
        matcher.prepare([t for s in offline for t in (*s.human, *s.atoms)])
    for s in offline:
        s.answer = matcher.match(s.human, s.atoms)
    llm = _llm_allowed(user, [s for s in live if s.item.matcher == MatchRun.Matcher.LLM])
    if llm:
        answer_with_llm(llm, user=user)
    return [_result(s) for s in scored]


LLM_REFUSED = "the llm matcher is for reviewers of the pair's dataset (they may start its runs)"


def _llm_allowed(user, items: list[Scored]) -> list[Scored]:
    """The LLM matcher spends the judge's budget: only for users who may start runs on the
    pair's dataset (its reviewers); an inline pair needs the reviewer role in some dataset."""
    ids = {s.item.pair_id for s in items if s.item.pair_id is not None}
    reviewed = (
        set(
            Pair.objects.filter(
                pk__in=ids, dataset__in=datasets_with_role(user, REVIEWER)
            ).values_list("pk", flat=True)
        )
        if ids
        else set()
    )
    reviews_any = has_role(user, REVIEWER)
    allowed = []
    for s in items:
        ok = s.item.pair_id in reviewed if s.item.pair_id is not None else reviews_any
        if ok:
            allowed.append(s)
        else:
            s.error = LLM_REFUSED
    return allowed


def _resolve_pairs(user, scored: list[Scored]) -> None:
    """One query for every pair id: only pairs in datasets the user may see are found."""
    found = reward_pairs(user, {s.item.pair_id for s in scored if s.item.pair_id is not None})
    for s in scored:
        if s.item.pair_id is None:
            s.human, s.preference = list(s.item.human_atoms or []), s.item.preference
        elif s.item.pair_id in found:
            s.preference, s.human = found[s.item.pair_id]
        else:
            s.error = f"no such pair: {s.item.pair_id}"
        if not s.error and not s.human:
            s.error = "the pair has no human checklist to score against"


def _read_answer(s: Scored) -> None:
    s.label, problem = genrm_parsing.parse_verdict(s.item.generated_text)
    if problem:
        s.error = f"unparsable verdict: {problem}"
        return
    if s.item.atoms:
        # Verbatim: the same atoms must give the same figures (and cache key) as a stored run.
        s.atoms, s.atoms_source = [a for a in s.item.atoms if a.strip()], "request"
        return
    s.atoms, s.atoms_source = genrm_parsing.reason_list(s.item.generated_text), "answer"
    if not s.atoms:
        # No reason list: each sentence of the visible rationale stands in for an atom.
        text = genrm_parsing.rationale_for_atomizer(s.item.generated_text)
        s.atoms = genrm_parsing.dedupe(
            [genrm_parsing.clean_atom(x) for x in _SENTENCE.split(text) if x.strip()]
        )
        s.atoms_source = "sentences"


def _result(s: Scored) -> dict:
    if s.error:
        return {"pair_id": s.item.pair_id, "error": s.error}
    score = (
        scoring.score_sample(
            s.answer,
            len(s.human),
            len(s.atoms),
            max_checklist_len=settings.METAJUDGE_MAX_CHECKLIST_LEN,
            precision_cap=settings.METAJUDGE_PRECISION_CAP,
        )
        if s.atoms
        else scoring.SampleScore(scoring.SKIPPED)
    )
    if score.status == scoring.ERROR:
        return {"pair_id": s.item.pair_id, "error": f"matcher: {score.error}"}
    correct = scoring.outcome_correct(s.label, s.preference)
    outcome = None if correct is None else float(correct)
    rationale = score.average_precision if score.status == scoring.VALID else 0.0
    return {
        "pair_id": s.item.pair_id,
        "label": s.label,
        "atoms": s.atoms,
        "atoms_source": s.atoms_source,
        "outcome_reward": outcome,
        "rationale_reward": rationale,
        "hybrid_reward": (outcome or 0.0) + s.item.lam * rationale,
        "lambda": s.item.lam,
        "matcher": s.item.matcher,
        "rationale_status": score.status,
        "cached": s.cached,
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.f1,
        "average_precision": score.average_precision,
    }


__all__ = ["RewardInput", "cache_key", "cached_answers_add", "endpoint_for_reward", "reward_score"]
