"""What match runs and generation runs share: their open items in chunks, atomic claims,
enqueueing on commit, abort and resume, and the drain loop that overlaps calls with writes.

A run model has `state` (queued, running, done, aborted, failed) and `concurrency`; its item
model has `run`, `pair`, `status` (pending, claimed, ...), `claim_token` and `claimed_at`."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

PENDING, CLAIMED = "pending", "claimed"
QUEUED, RUNNING, ABORTED = "queued", "running", "aborted"
OPEN_STATES = (QUEUED, RUNNING)
WRITE_EVERY = 0.5  # seconds between result flushes while calls are in flight


def pending_chunks(items: QuerySet, concurrency: int) -> list[list[int]]:
    """The pair ids of a run's open items, in chunks for the tasks. Each chunk ends with a tail
    where fewer calls than `concurrency` are in flight; chunks many times larger than the
    concurrency keep that tail a small share of the run."""
    ids = list(
        items.filter(status__in=[PENDING, CLAIMED])
        .order_by("pair_id")
        .values_list("pair_id", flat=True)
    )
    size = max(settings.METAJUDGE_CHUNK_SIZE, concurrency * 64)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def enqueue(run_id: int, chunks: list[list[int]], chunk_task, finalize_task) -> int:
    for chunk in chunks:
        chunk_task.delay(run_id, chunk)
    if not chunks:
        finalize_task.delay(run_id)
    return len(chunks)


def claim_token(owner: str | None) -> uuid.UUID:
    """A task's id (kept across retries and redeliveries) as its claim token."""
    if not owner:
        return uuid.uuid4()
    try:
        return uuid.UUID(owner)
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, owner)


def claim(items: QuerySet, owner: str | None = None) -> QuerySet:
    """Atomically take the open items of `items` (one run's chunk). A dead worker's claim
    expires after a lease; the same task (same owner) takes its own claims back at once."""
    token = claim_token(owner)
    expired = timezone.now() - timedelta(seconds=settings.METAJUDGE_CLAIM_LEASE)
    items.filter(
        Q(status=PENDING)
        | Q(status=CLAIMED, claimed_at__lt=expired)
        | Q(status=CLAIMED, claim_token=token)
    ).update(status=CLAIMED, claim_token=token, claimed_at=timezone.now())
    return items.filter(claim_token=token, status=CLAIMED)


def start_processing(runs: QuerySet) -> bool:
    """False when the run is no longer open (aborted or done): the chunk does nothing."""
    run = runs.values_list("state", flat=True).first()
    if run not in OPEN_STATES:
        return False
    runs.filter(state=QUEUED).update(state=RUNNING, started_at=timezone.now())
    return True


def abort(runs: QuerySet) -> None:
    runs.filter(state__in=OPEN_STATES).update(
        state=ABORTED, finished_at=timezone.now(), message="aborted by a user"
    )


def resume(runs: QuerySet, items: QuerySet, enqueue_open: Callable[[], object], *, enqueue=True):
    """Pick an aborted or interrupted run up where it stopped."""
    with transaction.atomic():
        runs.update(state=QUEUED, finished_at=None)
        items.filter(status=CLAIMED).update(status=PENDING, claim_token=None)
        if enqueue:
            transaction.on_commit(enqueue_open)


def drain(
    answer_all: Callable, jobs: list, write: Callable[[list], None], aborted: Callable[[], bool]
) -> None:
    """Run `answer_all(jobs, done_queue, stop_event)` on a loop thread; write what comes back
    from this thread, in batches, so every database write stays on one connection."""
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    worker = threading.Thread(target=answer_all, args=(jobs, done, stop), daemon=True)
    worker.start()
    finished, batch, last_flush = 0, [], time.monotonic()
    while finished < len(jobs):
        try:
            batch.append(done.get(timeout=WRITE_EVERY))
            finished += 1
        except queue.Empty:
            pass
        if batch and (time.monotonic() - last_flush >= WRITE_EVERY or finished == len(jobs)):
            write(batch)
            batch, last_flush = [], time.monotonic()
            if aborted():
                stop.set()
                break
    worker.join()


def chunk_open(runs: QuerySet, items: QuerySet, pair_ids: list[int]) -> bool:
    if runs.filter(state__in=OPEN_STATES).exists():
        return items.filter(pair_id__in=pair_ids, status__in=[PENDING, CLAIMED]).exists()
    return False
