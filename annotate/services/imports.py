"""Import preference JSONL: streamed, staged, one transaction, every bad line named."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from annotate import critic_judgments
from annotate.models import Dataset
from annotate.records import Record, RecordError, normalize
from annotate.services.bulk_pairs import PairStage
from annotate.signals import checklists_changed

BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 1000


class StrictImportFailed(Exception):
    """Raised inside the transaction so that nothing of a strict import is written."""


@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_count: int = 0
    lines: int = 0
    strict: bool = False
    written: bool = True
    critics: list[str] = field(default_factory=list)

    def reject(self, line_no: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED_ERRORS:
            self.rejected.append((line_no, reason))


def iter_lines(stream: BinaryIO, max_bytes: int) -> Iterator[tuple[int, str | None, str]]:
    """Yield (line_no, text or None, error). Over-long lines are skipped without being held."""
    line_no = 0
    while True:
        chunk = stream.readline(max_bytes + 1)
        if not chunk:
            return
        line_no += 1
        if len(chunk) > max_bytes and not chunk.endswith(b"\n"):
            size = len(chunk) + _drain_line(stream)
            yield line_no, None, f"line is {size:,} bytes, over the {max_bytes:,}-byte limit"
            continue
        try:
            yield line_no, chunk.decode("utf-8").strip(), ""
        except UnicodeDecodeError as exc:
            yield line_no, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"


def _drain_line(stream: BinaryIO) -> int:
    size = 0
    while True:
        chunk = stream.readline(1 << 20)
        size += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return size


def parse_line(text: str) -> Record:
    if "\\u0000" in text:
        raise RecordError("contains a NUL character (\\u0000), which the database cannot store")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    return normalize(obj, text)


def import_pairs(
    *,
    stream: BinaryIO,
    dataset_name: str,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport(strict=strict)
    max_bytes = settings.IMPORT_MAX_LINE_BYTES
    try:
        with transaction.atomic():
            dataset, _ = Dataset.objects.get_or_create(name=dataset_name)
            writer = _BatchWriter(dataset, report)
            for line_no, text, error in iter_lines(stream, max_bytes):
                report.lines = line_no
                _take_line(writer, report, line_no, text, error)
                if progress and line_no % BATCH_SIZE == 0:
                    progress(line_no)
            writer.flush()
            if strict and report.rejected_count:
                raise StrictImportFailed
    except StrictImportFailed:
        report.written = False
        report.created = 0
    if report.created:
        checklists_changed.send(sender=Dataset, dataset_id=dataset.pk)
    return report


def _take_line(writer: _BatchWriter, report: ImportReport, line_no: int, text, error) -> None:
    if error:
        report.reject(line_no, error)
        return
    if not text:
        return  # blank lines are not records
    try:
        record = parse_line(text)
    except RecordError as exc:
        report.reject(line_no, str(exc))
        return
    writer.add(line_no, record, text)


class _BatchWriter:
    """Stages records (a key seen before is a duplicate), then writes the new ones in bulk."""

    def __init__(self, dataset: Dataset, report: ImportReport) -> None:
        self.report = report
        self.stage = PairStage(dataset.pk)
        self.seen: set[str] = set()
        self.critics: dict[str, int] = {}

    def add(self, line_no: int, record: Record, text: str) -> None:
        if record.key in self.seen:
            self.report.duplicates += 1
            return
        self.seen.add(record.key)
        for name in record.critics:
            if name not in self.critics:
                self.critics[name] = (
                    critic_judgments.critic_model().objects.get_or_create(name=name)[0].pk
                )
                self.report.critics.append(name)
        self.stage.add(record, text, self.critics)

    def flush(self) -> None:
        created, present = self.stage.write()
        self.report.created += created
        self.report.duplicates += present
