"""What match runs and generation runs share: their open items in chunks, atomic claims,
enqueueing on commit, abort and resume, and the drain loop that overlaps calls with writes.

A run model has `state` (queued, running, done, aborted, failed) and `concurrency`; its item
model has `run`, `pair`, `status` (pending, claimed, ...), `claim_token` and `claimed_at`."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from metajudge.llm.feed import Feed

PENDING, CLAIMED = "pending", "claimed"
QUEUED, RUNNING, ABORTED = "queued", "running", "aborted"
OPEN_STATES = (QUEUED, RUNNING)
WRITE_EVERY = 0.5  # seconds between result flushes while calls are in flight


# A run in one process (the commands' --sync) has no task to keep within a broker's visibility
# timeout and renews its claims while calls are in flight, so its chunks are only bounded by
# memory (a few KB a sample); each chunk boundary costs a tail and a set-up (about 0.4 s).
SYNC_CHUNK_SIZE = 8192


def pending_chunks(items: QuerySet, concurrency: int, size: int = 0) -> list[list[int]]:
    """The pair ids of a run's open items, in chunks for the tasks (of at most chunk_size, or `size`
    where that is larger). Each chunk ends with a tail where fewer calls than `concurrency` are
    in flight; chunks many times larger than the concurrency keep that tail a small share of
    the run."""
    ids = list(
        items.filter(status__in=[PENDING, CLAIMED])
        .order_by("pair_id")
        .values_list("pair_id", flat=True)
    )
    # As many chunks as chunk_size needs, of equal sizes: 2,000 samples at 1,792 a chunk are
    # two of 1,000, which two workers finish together, not one of 1,792 and a short one after.
    count = -(-len(ids) // max(size, chunk_size(concurrency)))
    return [ids[k * len(ids) // count : (k + 1) * len(ids) // count] for k in range(count)]


def chunk_size(concurrency: int) -> int:
    """Rounds of `concurrency` calls such that a chunk of calls taking METAJUDGE_CALL_SECONDS
    each ends within a quarter of the lease (see settings)."""
    budget = settings.METAJUDGE_CLAIM_LEASE / 4 / max(settings.METAJUDGE_CALL_SECONDS, 0.001)
    rounds = max(1, min(settings.METAJUDGE_MAX_CHUNK_ROUNDS, int(budget)))
    return max(settings.METAJUDGE_CHUNK_SIZE, concurrency * rounds)


def recount(items: QuerySet, paid: Q | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """(items per status, usage) of one run's items, from the rows: a chunk that ran twice, or a
    superseded holder, never inflates a run's counters. Usage (calls, prompt and completion
    tokens) sums the items that `paid` selects (e.g. not answered from the cache)."""
    paid = paid if paid is not None else Q()
    counts = dict(
        items.values("status").annotate(n=Count("pk")).order_by().values_list("status", "n")
    )
    usage = items.aggregate(
        calls=Sum("attempts", filter=paid),
        prompt_tokens=Sum("prompt_tokens", filter=paid),
        completion_tokens=Sum("completion_tokens", filter=paid),
    )
    return counts, {k: v or 0 for k, v in usage.items()}


def claim_owner(owner: str | None, attempt: int = 0) -> str:
    """A task's id and its retry number: a retry (a higher number) may take back what its dead
    predecessor held at once; a redelivered copy of a live task (the same number) may not."""
    return f"{owner}:{attempt:05d}" if owner else ""


def claim(items: QuerySet, owner: str | None = None, attempt: int = 0) -> QuerySet:
    """Atomically take the open items of `items` (one run's chunk) under a fresh token, so only
    this execution may write them (see `held`). A claim lasts while its holder renews it (see
    `drain`); a dead holder's claim expires after the lease."""
    token = take(items, owner, attempt)
    return items.filter(claim_token=token, status=CLAIMED)


def take(items: QuerySet, owner: str | None = None, attempt: int = 0) -> uuid.UUID:
    """`claim`'s statement: the token that the items it took now carry."""
    token, me, now = uuid.uuid4(), claim_owner(owner, attempt), timezone.now()
    expired = now - timedelta(seconds=settings.METAJUDGE_CLAIM_LEASE)
    takeable = Q(status=PENDING) | Q(status=CLAIMED, claimed_at__lt=expired)
    if owner:
        takeable |= Q(status=CLAIMED, claim_owner__startswith=f"{owner}:", claim_owner__lt=me)
    items.filter(takeable).update(status=CLAIMED, claim_token=token, claim_owner=me, claimed_at=now)
    return token


def held(items: QuerySet, tokens: dict[int, uuid.UUID]) -> set[int]:
    """The pks of `tokens` ({pk: token}) whose claim is still this execution's, locked until the
    transaction ends: the fence that keeps a superseded holder from writing."""
    rows = items.select_for_update().filter(pk__in=tokens, status=CLAIMED)
    return {pk for pk, token in rows.values_list("pk", "claim_token") if tokens[pk] == token}


def renew(items: QuerySet, tokens) -> None:
    """Extend the lease of the claims still held under `tokens`."""
    items.filter(claim_token__in=set(tokens), status=CLAIMED).update(claimed_at=timezone.now())


def heartbeat_every() -> float:
    """Claims are renewed several times within a lease, so a live holder never loses them."""
    return max(1.0, settings.METAJUDGE_CLAIM_LEASE / 4)


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
    answer_all: Callable,
    jobs: list,
    write: Callable[[list], None],
    aborted: Callable[[], bool],
    renew: Callable[[], None] = lambda: None,
    more: Iterable[list] = (),
) -> None:
    """Run `answer_all(feed, done_queue, stop_event)` on a loop thread, where the feed holds
    `jobs` and then each list that `more` yields: `more` runs on this thread while the first
    calls are in flight (a chunk's later samples load during its first calls, not before them).
    What comes back is written from this thread, in batches, so every database write stays on
    one connection. `renew` keeps the chunk's claims alive while calls are in flight."""
    feed = Feed(jobs)
    later = iter(more)
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    worker = threading.Thread(target=answer_all, args=(feed, done, stop), daemon=True)
    worker.start()
    finished, last_renew, feeding = 0, time.monotonic(), True
    try:
        while feeding or finished < feed.count:
            if time.monotonic() - last_renew >= heartbeat_every():
                renew()
                last_renew = time.monotonic()
            if feeding:
                batch = next(later, None)
                if batch is None:
                    feed.close()
                    feeding = False
                else:
                    feed.add(batch)
            else:
                # Sleep a flush interval (or until the calls end) and take what came back:
                # this thread wakes twice a second, not once per answer, so it never takes
                # the GIL from the event loop for a single result.
                worker.join(timeout=WRITE_EVERY)
            results = _take(done)
            if results:
                finished += len(results)
                write(results)
            elif not feeding:
                if not worker.is_alive():
                    break  # the loop thread died before it answered every job
                continue
            if aborted():  # after each write, and before each later batch is loaded
                stop.set()
                break
    except BaseException:
        stop.set()  # the calls in flight end at their next attempt
        raise
    finally:
        feed.close()
    worker.join()


def _take(done: queue.Queue) -> list:
    batch = []
    while True:
        try:
            batch.append(done.get_nowait())
        except queue.Empty:
            return batch


def chunk_open(runs: QuerySet, items: QuerySet, pair_ids: list[int]) -> bool:
    if runs.filter(state__in=OPEN_STATES).exists():
        return items.filter(pair_id__in=pair_ids, status__in=[PENDING, CLAIMED]).exists()
    return False
