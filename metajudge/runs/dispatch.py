"""The one module that enqueues metajudge's Celery tasks.

Services call it; the tasks (metajudge/tasks.py) import the services. So this module never
imports the tasks: it looks them up by their registered names when it sends, through the
current Celery app's registry (`delay` honours CELERY_TASK_ALWAYS_EAGER, as before). A worker
has the task modules loaded at start; any other process has Celery's autodiscovery load
metajudge.tasks on its first dispatch (not at start: the tasks import the judge client, and
openai's import alone takes about a second)."""

from __future__ import annotations

from celery import current_app

PROCESS_CHUNK = "metajudge.tasks.process_chunk"
FINALIZE_RUN = "metajudge.tasks.finalize_run"
GENRM_CHUNK = "metajudge.tasks.genrm_chunk"
GENRM_FINALIZE = "metajudge.tasks.genrm_finalize"
TASK_NAMES = (PROCESS_CHUNK, FINALIZE_RUN, GENRM_CHUNK, GENRM_FINALIZE)


def task(name: str):
    """The registered task of that name, loading metajudge's task module once if need be."""
    if name not in current_app.tasks:
        current_app.autodiscover_tasks(["metajudge"], force=True)
    return current_app.tasks[name]


def _chunks_enqueue(run_id: int, chunks: list[list[int]], chunk: str, finalize: str) -> int:
    """One task per chunk; a run with nothing left to do is finalized instead."""
    for pair_ids in chunks:
        task(chunk).delay(run_id, pair_ids)
    if not chunks:
        task(finalize).delay(run_id)
    return len(chunks)


def match_chunks_enqueue(run_id: int, chunks: list[list[int]]) -> int:
    return _chunks_enqueue(run_id, chunks, PROCESS_CHUNK, FINALIZE_RUN)


def match_chunk_enqueue(run_id: int, pair_ids: list[int]) -> None:
    task(PROCESS_CHUNK).delay(run_id, pair_ids)


def genrm_chunks_enqueue(run_id: int, chunks: list[list[int]]) -> int:
    return _chunks_enqueue(run_id, chunks, GENRM_CHUNK, GENRM_FINALIZE)
