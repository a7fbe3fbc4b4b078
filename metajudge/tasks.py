"""Thin Celery tasks: ids in, the service does the work. Each is safe to run twice."""

from celery import shared_task

from metajudge.services import matching, runs


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process_chunk(run_id: int, pair_ids: list[int]) -> None:
    matching.process_chunk(run_id=run_id, pair_ids=pair_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def finalize_run(run_id: int) -> None:
    runs.run_finalize(run_id=run_id)
