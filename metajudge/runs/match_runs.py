"""Match run lifecycle: start (or re-run), enqueue chunks on commit, abort, resume, finalize."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotate.models import Checklist, Dataset
from metajudge.method.matchers import get_matcher
from metajudge.models import Critic, JudgeEndpoint, Judgment, MatchResult, MatchRun, PromptTemplate
from metajudge.runs import dispatch, lifecycle, store

S = MatchResult.Status
OPEN_STATES = (MatchRun.State.QUEUED, MatchRun.State.RUNNING)
ONLY = ("", "stale", "failed")


def run_start(
    *,
    dataset: Dataset,
    critic: Critic,
    matcher: str,
    endpoint: JudgeEndpoint | None = None,
    template: PromptTemplate | None = None,
    concurrency: int | None = None,
    domain: str = "",
    user=None,
    enqueue: bool = True,
    only: str = "",
    offline_matcher: str | None = None,
) -> MatchRun:
    """Start a run, or re-open the same run: only new, stale and failed samples are redone.
    `only` narrows that to the stale ("stale") or the failed ("failed") samples, none new.
    An offline run is one per offline matcher (semantic or lexical; the default if None)."""
    if only not in ONLY:
        raise ValueError(f"only must be one of {ONLY}, not {only!r}")
    with transaction.atomic():
        run, _ = MatchRun.objects.select_for_update().get_or_create(
            dataset=dataset,
            critic=critic,
            matcher=matcher,
            endpoint=endpoint,
            template=template,
            domain=domain,
            judge_model=_judge_name(matcher, endpoint, offline_matcher),
            defaults={"created_by": user},
        )
        run.concurrency = concurrency or (endpoint.max_concurrency if endpoint else 1)
        run.skip_unscorable = settings.METAJUDGE_SKIP_UNSCORABLE
        run.state, run.finished_at, run.message = MatchRun.State.QUEUED, None, ""
        run.started_at = timezone.now()  # a re-queued run shows its new times, not the old
        run.save()
        _prepare(run, only)
        refresh_counts(run)
        if enqueue:
            transaction.on_commit(lambda: enqueue_pending(run.pk))
    return run


def _judge_name(matcher: str, endpoint: JudgeEndpoint | None, offline_matcher: str | None) -> str:
    if endpoint is not None:
        return endpoint.model
    if matcher == MatchRun.Matcher.OFFLINE:
        return get_matcher(offline_matcher).label
    return matcher


def _eligible(run: MatchRun):
    """(pair, judgment, revision) for pairs with a judgment by the critic and a human checklist
    (verdict mode: a golden judgment instead of a checklist)."""
    if run.matcher == MatchRun.Matcher.VERDICT:
        judgments = Judgment.objects.filter(critic=run.critic, pair__dataset=run.dataset)
        judgments = judgments.exclude(pair__golden_judgment="")
        if run.domain:
            judgments = judgments.filter(pair__domain=run.domain)
        yield from ((p, j, None) for p, j in judgments.values_list("pair_id", "pk").iterator())
        return
    checklists = Checklist.objects.filter(pair__dataset=run.dataset, slot=0, current__isnull=False)
    if run.domain:
        checklists = checklists.filter(pair__domain=run.domain)
    revision_by_pair = dict(checklists.values_list("pair_id", "current_id"))
    judgments = Judgment.objects.filter(critic=run.critic, pair_id__in=revision_by_pair.keys())
    for pair_id, judgment_id in judgments.values_list("pair_id", "pk").iterator(chunk_size=5000):
        yield pair_id, judgment_id, revision_by_pair[pair_id]


def _prepare(run: MatchRun, only: str = "") -> None:
    if not only:
        template = MatchResult(run=run)
        store.insert_new(MatchResult, template, ("pair", "judgment", "revision"), _eligible(run))
    redo = {"stale": Q(stale=True), "failed": Q(status=S.ERROR)}.get(
        only, Q(stale=True) | Q(status=S.ERROR)
    )
    MatchResult.objects.filter(run=run).filter(redo).update(
        status=S.PENDING, stale=False, claim_token=None
    )


def refresh_counts(run: MatchRun) -> MatchRun:
    """Counters are recounted from the results, so a chunk that ran twice never inflates them."""
    counts, usage = lifecycle.recount(MatchResult.objects.filter(run=run), Q(cached=False))
    run.total = sum(counts.values())
    run.done_count = run.total - counts.get(S.PENDING, 0) - counts.get(S.CLAIMED, 0)
    run.error_count = counts.get(S.ERROR, 0)
    fields = {"total": run.total, "done_count": run.done_count, "error_count": run.error_count}
    if run.matcher != MatchRun.Matcher.IMPORT:  # imported runs keep the counts they came with
        fields.update(usage)
        run.calls, run.prompt_tokens, run.completion_tokens = usage.values()
    MatchRun.objects.filter(pk=run.pk).update(**fields)
    return run


def pending_chunks(run: MatchRun, size: int = 0) -> list[list[int]]:
    return lifecycle.pending_chunks(MatchResult.objects.filter(run=run), run.concurrency, size)


def enqueue_pending(run_id: int) -> int:
    chunks = pending_chunks(MatchRun.objects.get(pk=run_id))
    return dispatch.match_chunks_enqueue(run_id, chunks)


def run_abort(*, run: MatchRun) -> MatchRun:
    lifecycle.abort(MatchRun.objects.filter(pk=run.pk))
    run.refresh_from_db()
    return run


def run_resume(*, run: MatchRun, enqueue: bool = True) -> MatchRun:
    """Pick an aborted or interrupted run up where it stopped."""
    lifecycle.resume(
        MatchRun.objects.filter(pk=run.pk),
        MatchResult.objects.filter(run=run),
        lambda: enqueue_pending(run.pk),
        enqueue=enqueue,
    )
    run.refresh_from_db()
    return run


def chunk_open(run_id: int, pair_ids: list[int]) -> bool:
    """True while the run is open and part of this chunk is still not scored (another task
    holds it, perhaps a dead one whose claim has yet to expire)."""
    return lifecycle.chunk_open(
        MatchRun.objects.filter(pk=run_id), MatchResult.objects.filter(run_id=run_id), pair_ids
    )


def run_finalize(*, run_id: int) -> MatchRun:
    """Close the run once nothing is left to do. Safe to call any number of times."""
    run = refresh_counts(MatchRun.objects.get(pk=run_id))
    if run.done_count == run.total:
        MatchRun.objects.filter(pk=run_id, state__in=OPEN_STATES).update(
            state=MatchRun.State.DONE, finished_at=timezone.now()
        )
    run.refresh_from_db()
    return run


def result_rerun(*, result: MatchResult) -> MatchResult:
    """Redo one sample in the background (after a checklist fix); its run re-opens for it."""
    with transaction.atomic():
        checklist = Checklist.objects.filter(pair_id=result.pair_id, slot=0).first()
        MatchResult.objects.filter(pk=result.pk).update(
            status=S.PENDING,
            stale=False,
            claim_token=None,
            revision=checklist.current_id if checklist else None,
        )
        MatchRun.objects.filter(pk=result.run_id).update(
            state=MatchRun.State.QUEUED, finished_at=None
        )
        refresh_counts(result.run)
        run_id, pair_id = result.run_id, result.pair_id
        transaction.on_commit(lambda: dispatch.match_chunk_enqueue(run_id, [pair_id]))
    result.refresh_from_db()
    return result


def runs_recover() -> int:
    """Re-enqueue the open samples of every open run, e.g. when a worker starts after a crash.
    Claims make a duplicate message harmless; a live claim is left to its holder."""
    count = 0
    for run_id in MatchRun.objects.filter(state__in=OPEN_STATES).values_list("pk", flat=True):
        count += enqueue_pending(run_id)
    return count
