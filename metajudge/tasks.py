"""Thin Celery tasks: ids in, the service does the work. Each is safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from metajudge.generation import genrm
from metajudge.generation import genrm_chunk as genrm_chunk_service
from metajudge.matching import chunks as matching
from metajudge.runs import match_runs as runs

# A database that restarts mid-run is waited out: the task retries with back-off, and its
# task id with a higher retry number lets it take back its dead predecessor's claims at once
# (a redelivered copy of a live task has the same number and must wait for the lease).
DB_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 20,
}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, **DB_RETRY)
def process_chunk(self, run_id: int, pair_ids: list[int]) -> None:
    matching.process_chunk(
        run_id=run_id, pair_ids=pair_ids, owner=self.request.id, attempt=self.request.retries
    )
    _again_if_held(self, runs.chunk_open(run_id, pair_ids))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **DB_RETRY)
def finalize_run(run_id: int) -> None:
    runs.run_finalize(run_id=run_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, **DB_RETRY)
def genrm_chunk(self, run_id: int, pair_ids: list[int]) -> None:
    """GenRM judgments or human-reason atomization for one chunk of a generation run."""
    genrm_chunk_service.process_chunk(
        run_id=run_id, pair_ids=pair_ids, owner=self.request.id, attempt=self.request.retries
    )
    _again_if_held(self, genrm.chunk_open(run_id, pair_ids))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **DB_RETRY)
def genrm_finalize(run_id: int) -> None:
    genrm.genrm_run_finalize(run_id=run_id)


def _again_if_held(task, still_open: bool) -> None:
    """Part of the chunk is held by another task's claim (a worker that died holding it, say):
    look again once that claim can have expired, until every item of the chunk is done."""
    if still_open and not task.request.is_eager and task.request.retries < MAX_WATCH_RETRIES:
        raise task.retry(
            countdown=settings.METAJUDGE_CLAIM_LEASE + 1, max_retries=MAX_WATCH_RETRIES
        )


MAX_WATCH_RETRIES = 1000
