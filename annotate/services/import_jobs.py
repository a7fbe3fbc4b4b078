"""Uploads imported by a worker: the request stores the file and a job row and answers at once;
the task runs the same all-or-nothing import service and records its report on the row."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from annotate.models import ImportJob
from annotate.services.imports import import_pairs
from annotate.uploads import UploadRefused, open_upload

# A job still "running" this long after it started lost its worker (a killed process whose
# task the broker redelivered): it may be taken again. An import of 22,116 pairs takes ~15 s.
RUNNING_LEASE = timedelta(hours=1)
UPLOAD_DIR = "imports"


def import_job_create(*, owner, dataset_name: str, upload, strict: bool) -> ImportJob:
    """Check the upload's name and size (UploadRefused), store it under VAR_DIR, add the job.
    What only reading can tell (a corrupt gzip, a bomb, bad lines) the worker reports."""
    open_upload(upload.name, upload.file, upload.size)
    suffix = ".jsonl.gz" if upload.name.lower().endswith(".gz") else ".jsonl"
    relative = Path(UPLOAD_DIR) / f"{uuid.uuid4().hex}{suffix}"
    target = Path(settings.VAR_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    with transaction.atomic():
        return ImportJob.objects.create(
            owner=owner,
            dataset_name=dataset_name,
            file_name=upload.name[:255],
            path=str(relative),
            size=target.stat().st_size,
            strict=strict,
        )


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job (or one whose worker died); a finished or live one is left alone."""
    if not _claim(job_id):
        return ImportJob.objects.filter(pk=job_id).first()
    job = ImportJob.objects.get(pk=job_id)
    path = Path(settings.VAR_DIR) / job.path
    fields: dict = {}
    progress = _Progress(job.pk)
    try:
        with path.open("rb") as raw:
            stream = open_upload(job.file_name, raw, job.size)
            report = import_pairs(
                stream=stream,
                dataset_name=job.dataset_name,
                strict=job.strict,
                progress=lambda lines: progress(lines, raw.tell()),
            )
        fields = _report_fields(report)
    except UploadRefused as exc:
        fields = _failure("refused", str(exc))
    except (EOFError, OSError) as exc:  # a gzip stream that is cut or corrupt
        fields = _failure("unreadable", f"unreadable upload: {exc}")
    except DatabaseError:
        fields = _failure("database", "database unavailable; nothing was written")
    finally:
        progress.close()
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now(), **fields)
    path.unlink(missing_ok=True)
    return ImportJob.objects.get(pk=job.pk)


def import_job_unqueued(*, job_id: int) -> None:
    """The broker refused the task: the job fails at once (its file is removed), nothing written."""
    job = ImportJob.objects.get(pk=job_id)
    fields = _failure("queue", "the task queue is unavailable; nothing was written")
    ImportJob.objects.filter(pk=job_id).update(finished_at=timezone.now(), **fields)
    (Path(settings.VAR_DIR) / job.path).unlink(missing_ok=True)


def _claim(job_id: int) -> bool:
    now = timezone.now()
    open_ = Q(state=ImportJob.State.QUEUED) | Q(
        state=ImportJob.State.RUNNING, started_at__lt=now - RUNNING_LEASE
    )
    claimed = ImportJob.objects.filter(open_, pk=job_id).update(
        state=ImportJob.State.RUNNING, started_at=now
    )
    return claimed == 1


def _report_fields(report) -> dict:
    return {
        "state": ImportJob.State.DONE,
        "lines": report.lines,
        "created": report.created,
        "duplicates": report.duplicates,
        "rejected_count": report.rejected_count,
        "rejected": [list(item) for item in report.rejected],
        "written": report.written,
    }


def _failure(kind: str, message: str) -> dict:
    return {
        "state": ImportJob.State.FAILED,
        "error_kind": kind,
        "error": message,
        "written": False,
        "created": 0,
    }


class _Progress:
    """Writes the counts on the job row from a thread (a connection) of its own: the import's
    transaction stays open to the end, so writes on its connection would show nothing until
    then. PostgreSQL only: SQLite's open write transaction locks the whole file."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.pool = ThreadPoolExecutor(1) if connection.vendor == "postgresql" else None

    def __call__(self, lines: int, bytes_read: int) -> None:
        if self.pool is not None:
            self.pool.submit(self._write, lines, bytes_read)

    def _write(self, lines: int, bytes_read: int) -> None:
        ImportJob.objects.filter(pk=self.job_id, state=ImportJob.State.RUNNING).update(
            lines=lines, bytes_read=bytes_read
        )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.submit(_close_connection)
            self.pool.shutdown(wait=True)


def _close_connection() -> None:
    connection.close()  # run in the progress thread: closes that thread's own connection
