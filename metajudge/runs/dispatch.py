"""The one module that enqueues metajudge's Celery tasks.

Services call it; the tasks (metajudge/tasks.py) import the services. So this module never
imports the tasks: it looks them up by their registered names when it sends, through the
current Celery app's registry (`delay` honours CELERY_TASK_ALWAYS_EAGER, as before).
MetajudgeConfig.ready() imports metajudge.tasks, so the names are registered in every process."""

from __future__ import annotations

from celery import current_app

PROCESS_CHUNK = "metajudge.tasks.process_chunk"
FINALIZE_RUN = "metajudge.tasks.finalize_run"
GENRM_CHUNK = "metajudge.tasks.genrm_chunk"
GENRM_FINALIZE = "metajudge.tasks.genrm_finalize"
TASK_NAMES = (PROCESS_CHUNK, FINALIZE_RUN, GENRM_CHUNK, GENRM_FINALIZE)


def _task(name: str):
    return current_app.tasks[name]


def _chunks_enqueue(run_id: int, chunks: list[list[int]], chunk: str, finalize: str) -> int:
    """One task per chunk; a run with nothing left to do is finalized instead."""
    for pair_ids in chunks:
        _task(chunk).delay(run_id, pair_ids)
    if not chunks:
        _task(finalize).delay(run_id)
    return len(chunks)


def match_chunks_enqueue(run_id: int, chunks: list[list[int]]) -> int:
    return _chunks_enqueue(run_id, chunks, PROCESS_CHUNK, FINALIZE_RUN)


def match_chunk_enqueue(run_id: int, pair_ids: list[int]) -> None:
    _task(PROCESS_CHUNK).delay(run_id, pair_ids)


def genrm_chunks_enqueue(run_id: int, chunks: list[list[int]]) -> int:
    return _chunks_enqueue(run_id, chunks, GENRM_CHUNK, GENRM_FINALIZE)
