"""Score one chunk of a run: claim its samples, ask the matcher, write the results.

LLM calls overlap on an event loop in a helper thread; every database write stays on the
calling thread, in batches, so a task needs one connection and tests see one transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotate.models import Checklist
from metajudge.llm import batch
from metajudge.llm.batch import Answer
from metajudge.matching import drain as match_drain
from metajudge.matching import staleness, verdict
from metajudge.method import scoring
from metajudge.method.matchers import matcher_for_run
from metajudge.method.prompts import render_metajudge
from metajudge.models import CachedAnswer, MatchResult, MatchRun
from metajudge.runs import lifecycle, store
from metajudge.runs.match_runs import pending_chunks, run_finalize

S = MatchResult.Status
MAX_STORED_TEXT = 256 * 1024


@dataclass
class Sample:
    result: MatchResult
    human: list[str]
    model: list[str]
    revision_id: int | None
    label_correct: bool | None
    prompt: str = ""
    cache_key: str = ""
    token: object = None  # the claim this execution holds; only its holder may write
    strict: bool = False  # the template's strict grammar


# What a chunk reads of its pairs and judgments: at HelpSteer3 scale a pair's texts and imported
# line are most of its bytes (about 12 KB), and every field loaded is a model attribute built per
# row, so the rest stays in the database.
READ = ("judgment__label", "judgment__atoms", "pair__preference")
READ_FOR_VERDICT = (*READ, "judgment__generated_text", "pair__golden_judgment")
FIRST_SLICE = 128  # samples loaded before the first call (or twice the concurrency)


def claim(
    run: MatchRun, pair_ids: list[int], owner: str | None = None, attempt: int = 0
) -> list[MatchResult]:
    items = MatchResult.objects.filter(run=run, pair_id__in=pair_ids)
    return _load(run, lifecycle.claim(items, owner, attempt))


def _load(run: MatchRun, claimed) -> list[MatchResult]:
    read = READ_FOR_VERDICT if run.matcher == MatchRun.Matcher.VERDICT else READ
    own = [f.name for f in MatchResult._meta.concrete_fields]  # all written back
    results = list(claimed.select_related("judgment", "pair").only(*own, *read))
    for result in results:
        result.run = run  # the run this chunk already holds, not a copy per row
    return results


def _claimed_slices(run: MatchRun, pair_ids: list[int], owner: str | None, attempt: int):
    """Claim the whole chunk in one statement, then load its samples a slice at a time: the
    first slice fills the endpoint's concurrency, and the rest (building each row's objects is
    most of a claim's time) load while the first calls are in flight."""
    items = MatchResult.objects.filter(run=run, pair_id__in=pair_ids)
    token = lifecycle.take(items, owner, attempt)
    ids = sorted(pair_ids)
    step = max(FIRST_SLICE, 2 * run.concurrency)
    for k in range(0, len(ids), step):
        mine = MatchResult.objects.filter(
            run=run, pair_id__in=ids[k : k + step], claim_token=token, status=lifecycle.CLAIMED
        )
        yield _samples(run, _load(run, mine))


def _samples(run: MatchRun, results: list[MatchResult]) -> list[Sample]:
    current = dict(
        Checklist.objects.filter(pair_id__in=[r.pair_id for r in results], slot=0).values_list(
            "pair_id", "current_id"
        )
    )
    atoms = dict(
        Checklist.objects.filter(pair_id__in=current.keys(), slot=0).values_list(
            "current_id", "current__atoms"
        )
    )
    samples = []
    for result in results:
        revision_id = current.get(result.pair_id)
        human = atoms.get(revision_id) or []
        human = json.loads(human) if isinstance(human, str) else human
        label = scoring.outcome_correct(result.judgment.label, result.pair.preference)
        sample = Sample(result, human, list(result.judgment.atoms), revision_id, label)
        sample.token = result.claim_token
        samples.append(sample)
    return samples


def process_chunk(
    *, run_id: int, pair_ids: list[int], owner: str | None = None, attempt: int = 0
) -> MatchRun | None:
    run = MatchRun.objects.select_related("endpoint", "template").get(pk=run_id)
    if not lifecycle.start_processing(MatchRun.objects.filter(pk=run_id)):
        return None
    if run.matcher not in (MatchRun.Matcher.VERDICT, MatchRun.Matcher.OFFLINE):
        _run_llm(run, _claimed_slices(run, pair_ids, owner, attempt))
        return run_finalize(run_id=run_id)
    samples = _samples(run, claim(run, pair_ids, owner, attempt))
    if run.matcher == MatchRun.Matcher.VERDICT:
        verdict.verdict_samples(run, samples)
        return run_finalize(run_id=run_id)
    todo = [s for s in samples if _skip_reason(s) is None]
    _write(run, [(s, None) for s in samples if _skip_reason(s) is not None])
    matcher = matcher_for_run(run)
    matcher.prepare([t for s in todo for t in (*s.human, *s.model)])
    _write(run, [(s, Answer(matcher.match(s.human, s.model))) for s in todo])
    return run_finalize(run_id=run_id)


def _skip_reason(sample: Sample) -> str | None:
    """Without a call only when the setting says so: by default these samples are asked, as
    the reference does, and the metric rules skip them (or count a malformed answer)."""
    m = len(sample.model)
    if m and m <= settings.METAJUDGE_MAX_CHECKLIST_LEN:
        return None
    run = sample.result.run
    if run.matcher == MatchRun.Matcher.LLM and not run.skip_unscorable:
        return None
    if m == 0:
        return "skipped: the model checklist is empty"
    limit = settings.METAJUDGE_MAX_CHECKLIST_LEN
    return f"skipped: the model checklist has {m} atoms (max {limit})"


def _result_fields(sample: Sample, answer: Answer | None) -> None:
    r = sample.result
    r.revision_id, r.label_correct, r.stale, r.claim_token = (
        sample.revision_id,
        sample.label_correct,
        False,
        None,
    )
    if answer is None:
        r.status, r.error, r.raw_text, r.lines = S.SKIPPED, _skip_reason(sample), "", []
        r.precision = r.recall = r.f1 = r.average_precision = None
        r.format_retries, r.retry_reasons = 0, []
        return
    r.raw_text = (answer.text or "")[:MAX_STORED_TEXT]
    r.attempts, r.cached = answer.attempts, answer.cached
    r.prompt_tokens, r.completion_tokens = answer.prompt_tokens, answer.completion_tokens
    r.format_retries, r.retry_reasons = answer.retries, answer.reasons[:20]
    score = scoring.score_sample(
        None if answer.error else answer.text,
        len(sample.human),
        len(sample.model),
        max_checklist_len=settings.METAJUDGE_MAX_CHECKLIST_LEN,
        precision_cap=settings.METAJUDGE_PRECISION_CAP,
    )
    r.lines = [list(x) for x in scoring.parse_answer(answer.text).lines] if answer.text else []
    r.status, r.error = score.status, answer.error or _format_error(score.error, answer)
    r.precision, r.recall, r.f1, r.average_precision = (
        score.precision,
        score.recall,
        score.f1,
        score.average_precision,
    )


def _format_error(problem: str, answer: Answer) -> str:
    if not problem:
        return ""
    asked = f" (after {answer.retries} re-asks)" if answer.retries else ""
    return f"format error: {problem}{asked}"


WRITE_FIELDS = [
    "status",
    "error",
    "raw_text",
    "lines",
    "precision",
    "recall",
    "f1",
    "average_precision",
    "revision",
    "label_correct",
    "stale",
    "claim_token",
    "attempts",
    "cached",
    "prompt_tokens",
    "completion_tokens",
    "format_retries",
    "retry_reasons",
    "updated_at",
]


def fenced(items: list) -> list:
    """The (sample, answer) items whose claim this execution still holds, locked until the
    transaction ends. Call inside transaction.atomic()."""
    tokens = {s.result.pk: s.token for s, _ in items}
    keep = lifecycle.held(MatchResult.objects.all(), tokens)
    return [(s, a) for s, a in items if s.result.pk in keep]


def _write(run: MatchRun, items: list[tuple[Sample, Answer | None]]) -> None:
    if not items:
        return
    now = timezone.now()
    with transaction.atomic():
        items = fenced(items)
        for sample, answer in items:
            _result_fields(sample, answer)
            sample.result.updated_at = now
        # One statement per batch, far cheaper than bulk_update's CASE per row and field.
        store.write_fields(MatchResult, [s.result for s, _ in items], WRITE_FIELDS)
        staleness.mark_edited_since(items)
        _cache_answers([(s, a) for s, a in items if a and a.text and not a.cached and not a.error])
        # Live progress; refresh_counts recounts from the rows when a chunk ends.
        MatchRun.objects.filter(pk=run.pk).update(
            done_count=F("done_count") + len(items),
            error_count=F("error_count") + sum(s.result.status == S.ERROR for s, _ in items),
            prompt_tokens=F("prompt_tokens") + sum(a.prompt_tokens for _, a in items if a),
            completion_tokens=F("completion_tokens")
            + sum(a.completion_tokens for _, a in items if a),
            calls=F("calls") + sum(a.attempts for _, a in items if a and not a.cached),
        )


def _cache_answers(items: list[tuple[Sample, Answer]]) -> None:
    CachedAnswer.objects.bulk_create(
        [
            CachedAnswer(
                key=s.cache_key,
                text=a.text,
                prompt_tokens=a.prompt_tokens,
                completion_tokens=a.completion_tokens,
            )
            for s, a in items
            if s.cache_key and s.result.status == S.VALID
        ],
        ignore_conflicts=True,
    )


def cache_key(run: MatchRun, human: list[str], model: list[str]) -> str:
    template = f"{run.template.name}@{run.template.version}" if run.template else ""
    payload = json.dumps([run.judge_model, template, human, model], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _run_llm(run: MatchRun, slices) -> None:
    """Ask the judge for each slice's samples that neither the rules skip nor the cache
    answers; the first slice's calls start before the later slices load."""
    asked = (_to_ask(run, samples) for samples in slices)
    first = next(asked, [])
    match_drain.drain_with(run, first, batch.answer_all, _write, more=asked)


def _to_ask(run: MatchRun, samples: list[Sample]) -> list[Sample]:
    """Write the skipped samples and the cached answers; return the samples left to ask."""
    _write(run, [(s, None) for s in samples if _skip_reason(s) is not None])
    todo = [s for s in samples if _skip_reason(s) is None]
    for sample in todo:
        sample.prompt = render_metajudge(run.template.text, sample.human, sample.model)
        sample.strict = run.template.strict_grammar
        sample.cache_key = cache_key(run, sample.human, sample.model)
    hits = dict(
        CachedAnswer.objects.filter(key__in=[s.cache_key for s in todo]).values_list("key", "text")
    )
    _write(run, [(s, Answer(hits[s.cache_key], cached=True)) for s in todo if s.cache_key in hits])
    return [s for s in todo if s.cache_key not in hits]


def run_sync(run: MatchRun) -> MatchRun:
    """Run every open chunk in this process through the task code (the commands' --sync)."""
    for chunk in pending_chunks(run, lifecycle.SYNC_CHUNK_SIZE):
        process_chunk(run_id=run.pk, pair_ids=chunk)
    return run_finalize(run_id=run.pk)
