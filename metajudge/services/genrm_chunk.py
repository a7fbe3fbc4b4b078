"""Process one chunk of a generation run: claim its items, call the model, write the results.

As in MetaJudge matching, the calls overlap on an event loop in a helper thread and every
database write stays on the calling thread, in batches. Writes are upserts, so a chunk that
runs twice (a redelivered task) changes nothing it has not redone."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from annotate.models import Pair
from metajudge.models import GenrmItem, GenrmRun
from metajudge.prompts import render_genrm
from metajudge.services.genrm import genrm_run_finalize
from metajudge.services.genrm_calls import Job, answer_all
from metajudge.services.genrm_writes import write_outcomes

S = GenrmItem.Status
WRITE_EVERY = 0.5  # seconds between flushes while calls are in flight


def claim(run: GenrmRun, pair_ids: list[int], owner: str | None = None) -> list[GenrmItem]:
    """Atomically take the chunk's open items; a dead worker's claim expires after a lease.
    A retried or redelivered task keeps its id (`owner`), so it takes back its own claims."""
    token = _token(owner)
    expired = timezone.now() - timedelta(seconds=settings.METAJUDGE_CLAIM_LEASE)
    GenrmItem.objects.filter(run=run, pair_id__in=pair_ids).filter(
        Q(status=S.PENDING)
        | Q(status=S.CLAIMED, claimed_at__lt=expired)
        | Q(status=S.CLAIMED, claim_token=token)
    ).update(status=S.CLAIMED, claim_token=token, claimed_at=timezone.now())
    return list(GenrmItem.objects.filter(run=run, claim_token=token, status=S.CLAIMED))


def _token(owner: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(owner) if owner else uuid.uuid4()
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, owner)


def _jobs(run: GenrmRun, items: list[GenrmItem]) -> list[Job]:
    fields = ("pk", "context", "response_1", "response_2", "human_reasons")
    pairs = {
        p["pk"]: p for p in Pair.objects.filter(pk__in=[i.pair_id for i in items]).values(*fields)
    }
    jobs = []
    for item in items:
        pair = pairs[item.pair_id]
        job = Job(pair_id=item.pair_id)
        if run.kind == GenrmRun.Kind.GENRM:
            job.prompt = render_genrm(
                run.template.text, pair["context"], pair["response_1"], pair["response_2"]
            )
        else:
            job.rationale = "\n\n".join(
                f"Annotator {k}: {reason}" for k, reason in enumerate(pair["human_reasons"], 1)
            )
        jobs.append(job)
    return jobs


def process_chunk(
    *, run_id: int, pair_ids: list[int], enqueue_chain: bool = True, owner: str | None = None
):
    run = GenrmRun.objects.select_related(
        "endpoint", "template", "atomizer_template", "critic"
    ).get(pk=run_id)
    if run.state not in (GenrmRun.State.QUEUED, GenrmRun.State.RUNNING):
        return None
    GenrmRun.objects.filter(pk=run_id, state=GenrmRun.State.QUEUED).update(
        state=GenrmRun.State.RUNNING, started_at=timezone.now()
    )
    items = {item.pair_id: item for item in claim(run, pair_ids, owner)}
    if items:
        _drain(run, items, _jobs(run, list(items.values())))
    return genrm_run_finalize(run_id=run_id, enqueue_chain=enqueue_chain)


def _drain(run: GenrmRun, items: dict[int, GenrmItem], jobs: list[Job]) -> None:
    """Run the calls on a loop thread; write what comes back from this thread, in batches."""
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    worker = threading.Thread(target=answer_all, args=(run, jobs, done, stop), daemon=True)
    worker.start()
    finished, batch, last_flush = 0, [], time.monotonic()
    while finished < len(jobs):
        try:
            job, outcome = done.get(timeout=WRITE_EVERY)
            batch.append((items[job.pair_id], outcome))
            finished += 1
        except queue.Empty:
            pass
        if batch and (time.monotonic() - last_flush >= WRITE_EVERY or finished == len(jobs)):
            write_outcomes(run, batch)
            batch, last_flush = [], time.monotonic()
            if GenrmRun.objects.filter(pk=run.pk, state=GenrmRun.State.ABORTED).exists():
                stop.set()
                break
    worker.join()
