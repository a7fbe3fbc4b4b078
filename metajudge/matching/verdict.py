"""Verdict mode (R-Align): a binary meta-judge reads the critic's visible rationale against the
golden judgment. Only label-correct items are asked; the rest are skipped, as the method says."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from metajudge.llm import batch
from metajudge.matching import drain as match_drain
from metajudge.method import scoring
from metajudge.method.prompts import render_verdict
from metajudge.models import MatchResult, MatchRun
from metajudge.runs import lifecycle

S = MatchResult.Status


def parse_verdict(text: str) -> str:
    """The whole visible answer (after any </think>), trimmed. It counts as correct only when
    it is exactly "correct" after lowercasing (scoring.verdict_is_correct), as the method says."""
    return scoring.visible_rationale(text).strip()[:100]


def verdict_samples(run: MatchRun, samples: list) -> None:
    asked = []
    for sample in samples:
        if sample.label_correct:
            rationale = scoring.visible_rationale(sample.result.judgment.generated_text)
            sample.prompt = render_verdict(
                run.template.text, sample.result.pair.golden_judgment, rationale
            )
            sample.human = ["verdict"]  # one answer line expected; no R/S grammar here
            asked.append(sample)
    skipped = [s for s in samples if not s.label_correct]
    with transaction.atomic():
        keep = _held(skipped)
        skipped = [s for s in skipped if s.result.pk in keep]
        for sample in skipped:
            _finish(sample.result, sample, None)
        _write_verdicts(run, skipped)
    if asked:
        match_drain.drain_with(run, asked, batch.answer_all, _write_answers, grammar=False)


def _finish(result: MatchResult, sample, answer) -> None:
    result.revision_id, result.label_correct = None, sample.label_correct
    result.stale, result.claim_token, result.updated_at = False, None, timezone.now()
    if answer is None:
        result.status, result.error = S.SKIPPED, "label incorrect: not asked in verdict mode"
        return
    result.raw_text, result.attempts = (answer.text or "")[:65536], answer.attempts
    result.prompt_tokens, result.completion_tokens = answer.prompt_tokens, answer.completion_tokens
    if answer.error or answer.text is None:
        result.status, result.error, result.verdict = S.ERROR, answer.error or "no answer", ""
        return
    result.verdict, result.error = parse_verdict(answer.text), ""
    result.status = S.VALID if result.verdict else S.ERROR


FIELDS = [
    "status",
    "error",
    "raw_text",
    "verdict",
    "revision",
    "label_correct",
    "stale",
    "claim_token",
    "attempts",
    "prompt_tokens",
    "completion_tokens",
    "updated_at",
]


def _held(samples: list) -> set[int]:
    """Only the execution that holds a sample's claim writes it (call inside a transaction)."""
    tokens = {s.result.pk: s.token for s in samples}
    return lifecycle.held(MatchResult.objects.all(), tokens)


def _write_verdicts(run: MatchRun, samples: list) -> None:
    if samples:
        with transaction.atomic():
            keep = _held(samples)
            rows = [s.result for s in samples if s.result.pk in keep]
            MatchResult.objects.bulk_update(rows, FIELDS)


def _write_answers(run: MatchRun, items: list) -> None:
    with transaction.atomic():
        keep = _held([s for s, _ in items])
        items = [(s, a) for s, a in items if s.result.pk in keep]
        for sample, answer in items:
            _finish(sample.result, sample, answer)
        _write_verdicts(run, [s for s, _ in items])
        MatchRun.objects.filter(pk=run.pk).update(
            prompt_tokens=F("prompt_tokens") + sum(a.prompt_tokens for _, a in items),
            completion_tokens=F("completion_tokens") + sum(a.completion_tokens for _, a in items),
            calls=F("calls") + sum(a.attempts for _, a in items),
        )
