"""Generation run lifecycle (GenRM judgments and human-reason atomization): start or re-open,
enqueue chunks on commit, abort, resume, finalize, and chain into a MetaJudge run when done."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from annotate.models import Dataset, Pair
from metajudge.models import Critic, GenrmItem, GenrmRun, JudgeEndpoint, MatchRun, PromptTemplate
from metajudge.runs import dispatch, lifecycle
from metajudge.runs.match_runs import run_start
from metajudge.services.setup import template_default

S = GenrmItem.Status
OPEN_STATES = (GenrmRun.State.QUEUED, GenrmRun.State.RUNNING)


def genrm_run_start(
    *,
    dataset: Dataset,
    critic: Critic,
    endpoint: JudgeEndpoint,
    template: PromptTemplate | None = None,
    atomizer_template: PromptTemplate | None = None,
    atoms_from: str = GenrmRun.AtomsFrom.AUTO,
    atomize_think: bool = False,
    concurrency: int | None = None,
    domain: str = "",
    chain_matcher: str = "",
    chain_endpoint: JudgeEndpoint | None = None,
    user=None,
    enqueue: bool = True,
    only: str = "",
) -> GenrmRun:
    """Start a critic's run, or re-open the same one: only new and failed pairs are redone
    (`only="failed"`: only the failed ones)."""
    if chain_matcher not in ("", MatchRun.Matcher.OFFLINE, MatchRun.Matcher.LLM):
        raise ValueError(f"chain_matcher must be offline or llm, not {chain_matcher!r}")
    if chain_matcher == MatchRun.Matcher.LLM and chain_endpoint is None:
        raise ValueError("an llm chain needs a judge endpoint")
    return _start(
        kind=GenrmRun.Kind.GENRM,
        dataset=dataset,
        critic=critic,
        endpoint=endpoint,
        template=template or template_default("genrm"),
        atomizer_template=atomizer_template or template_default("atomizer"),
        atoms_from=atoms_from,
        domain=domain,
        concurrency=concurrency,
        user=user,
        enqueue=enqueue,
        only=only,
        extra={
            "atomize_think": atomize_think,
            "chain_matcher": chain_matcher,
            "chain_endpoint": chain_endpoint,
        },
    )


def atomize_run_start(
    *,
    dataset: Dataset,
    endpoint: JudgeEndpoint,
    template: PromptTemplate | None = None,
    concurrency: int | None = None,
    domain: str = "",
    user=None,
    enqueue: bool = True,
    only: str = "",
) -> GenrmRun:
    """Propose human atoms from annotators' free-text reasons, as suggestions."""
    template = template or template_default("atomizer")
    return _start(
        kind=GenrmRun.Kind.ATOMIZE_HUMAN,
        dataset=dataset,
        critic=None,
        endpoint=endpoint,
        template=template,
        atomizer_template=template,
        atoms_from=GenrmRun.AtomsFrom.ATOMIZER,
        domain=domain,
        concurrency=concurrency,
        user=user,
        enqueue=enqueue,
        only=only,
        extra={},
    )


def _start(
    *,
    kind,
    dataset,
    critic,
    endpoint,
    template,
    atomizer_template,
    atoms_from,
    domain,
    concurrency,
    user,
    enqueue,
    extra,
    only="",
) -> GenrmRun:
    with transaction.atomic():
        run, _ = GenrmRun.objects.select_for_update().get_or_create(
            kind=kind,
            dataset=dataset,
            critic=critic,
            endpoint=endpoint,
            template=template,
            atomizer_template=atomizer_template,
            atoms_from=atoms_from,
            domain=domain,
            defaults={"created_by": user, **extra},
        )
        for name, value in extra.items():
            setattr(run, name, value)
        run.concurrency = concurrency or endpoint.max_concurrency
        run.state, run.finished_at, run.message = GenrmRun.State.QUEUED, None, ""
        run.started_at = timezone.now()  # a re-queued run shows its new times, not the old
        run.save()
        _prepare(run, only)
        refresh_counts(run)
        if enqueue:
            transaction.on_commit(lambda: enqueue_pending(run.pk))
    return run


def _pairs(run: GenrmRun):
    pairs = Pair.objects.filter(dataset=run.dataset)
    if run.domain:
        pairs = pairs.filter(domain=run.domain)
    if run.kind == GenrmRun.Kind.ATOMIZE_HUMAN:
        pairs = pairs.exclude(human_reasons=[])
    return pairs.values_list("pk", flat=True)


def _prepare(run: GenrmRun, only: str = "") -> None:
    if only != "failed":
        GenrmItem.objects.bulk_create(
            (GenrmItem(run=run, pair_id=pk) for pk in _pairs(run).iterator(chunk_size=5000)),
            ignore_conflicts=True,
            batch_size=2000,
        )
    GenrmItem.objects.filter(run=run, status=S.ERROR).update(status=S.PENDING, claim_token=None)


def refresh_counts(run: GenrmRun) -> GenrmRun:
    """Recounted from the items, so a chunk that ran twice never inflates them."""
    counts, usage = lifecycle.recount(GenrmItem.objects.filter(run=run))
    run.total = sum(counts.values())
    run.done_count = counts.get(S.DONE, 0) + counts.get(S.ERROR, 0)
    run.error_count = counts.get(S.ERROR, 0)
    run.calls, run.prompt_tokens, run.completion_tokens = usage.values()
    GenrmRun.objects.filter(pk=run.pk).update(
        total=run.total, done_count=run.done_count, error_count=run.error_count, **usage
    )
    return run


def pending_chunks(run: GenrmRun) -> list[list[int]]:
    return lifecycle.pending_chunks(GenrmItem.objects.filter(run=run), run.concurrency)


def enqueue_pending(run_id: int) -> int:
    chunks = pending_chunks(GenrmRun.objects.get(pk=run_id))
    return dispatch.genrm_chunks_enqueue(run_id, chunks)


def genrm_run_abort(*, run: GenrmRun) -> GenrmRun:
    lifecycle.abort(GenrmRun.objects.filter(pk=run.pk))
    run.refresh_from_db()
    return run


def genrm_run_resume(*, run: GenrmRun, enqueue: bool = True) -> GenrmRun:
    """Pick an aborted or interrupted run up where it stopped."""
    lifecycle.resume(
        GenrmRun.objects.filter(pk=run.pk),
        GenrmItem.objects.filter(run=run),
        lambda: enqueue_pending(run.pk),
        enqueue=enqueue,
    )
    run.refresh_from_db()
    return run


def chunk_open(run_id: int, pair_ids: list[int]) -> bool:
    return lifecycle.chunk_open(
        GenrmRun.objects.filter(pk=run_id), GenrmItem.objects.filter(run_id=run_id), pair_ids
    )


def genrm_run_finalize(*, run_id: int, enqueue_chain: bool = True) -> GenrmRun:
    """Close the run once nothing is left; on that transition, start the chained MetaJudge run.
    Safe to call any number of times: only the call that closes the run chains."""
    run = refresh_counts(GenrmRun.objects.get(pk=run_id))
    if run.done_count == run.total:
        closed = GenrmRun.objects.filter(pk=run_id, state__in=OPEN_STATES).update(
            state=GenrmRun.State.DONE, finished_at=timezone.now()
        )
        if closed and run.chain_matcher and run.kind == GenrmRun.Kind.GENRM:
            genrm_run_chain(run_id=run_id, enqueue=enqueue_chain)
    run.refresh_from_db()
    return run


def genrm_run_chain(*, run_id: int, enqueue: bool = True) -> MatchRun:
    """Start (or re-open) the MetaJudge run over this critic: new and stale samples are redone."""
    with transaction.atomic():
        run = GenrmRun.objects.select_for_update().get(pk=run_id)
        if not run.chain_matcher:
            raise ValueError(f"genrm run {run_id} has no chained matcher")
        llm = run.chain_matcher == MatchRun.Matcher.LLM
        match_run = run_start(
            dataset=run.dataset,
            critic=run.critic,
            matcher=run.chain_matcher,
            endpoint=run.chain_endpoint if llm else None,
            template=template_default("metajudge") if llm else None,
            concurrency=None if llm else 1,
            domain=run.domain,
            user=run.created_by,
            enqueue=enqueue,
        )
        GenrmRun.objects.filter(pk=run_id).update(chained_run=match_run)
    return match_run
