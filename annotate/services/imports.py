"""Import preference JSONL: streamed, bulk-written, one transaction, every bad line named."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.db import reset_queries, transaction
from django.db.models import OuterRef, Subquery

from annotate.models import Checklist, ChecklistRevision, Dataset, Pair
from annotate.records import Record, RecordError, normalize
from metajudge.models import Critic, Judgment

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
    """Collects records and writes them in bulk; keys already present are skipped."""

    def __init__(self, dataset: Dataset, report: ImportReport) -> None:
        self.dataset = dataset
        self.report = report
        self.pending: dict[str, tuple[int, Record, str]] = {}
        self.critics: dict[str, Critic] = {}
        self.position = (
            Pair.objects.filter(dataset=dataset)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
            or 0
        )

    def add(self, line_no: int, record: Record, text: str) -> None:
        if record.key in self.pending:
            self.report.duplicates += 1
            return
        self.pending[record.key] = (line_no, record, text)
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        existing = set(
            Pair.objects.filter(dataset=self.dataset, key__in=list(self.pending)).values_list(
                "key", flat=True
            )
        )
        self.report.duplicates += len(existing)
        fresh = [item for key, item in self.pending.items() if key not in existing]
        self.pending = {}
        if fresh:
            self._write(fresh)
        reset_queries()  # under DEBUG the query log would otherwise hold every batch's SQL

    def _write(self, items: list[tuple[int, Record, str]]) -> None:
        pairs = Pair.objects.bulk_create([self._pair(record, text) for _, record, text in items])
        records = [record for _, record, _ in items]
        _write_checklists(pairs, records)
        self._write_judgments(pairs, records)
        self.report.created += len(pairs)

    def _pair(self, record: Record, text: str) -> Pair:
        self.position += 1
        return Pair(
            dataset=self.dataset,
            key=record.key,
            external_id=record.external_id,
            position=self.position,
            domain=record.domain,
            language=record.language,
            context=record.context,
            response_1=record.response_1,
            response_2=record.response_2,
            preference=record.preference,
            preference_strength=record.preference_strength,
            human_reasons=record.human_reasons,
            golden_judgment=record.golden_judgment,
            source_format=record.source_format,
            raw_json=text,
        )

    def _critic(self, name: str) -> Critic:
        if name not in self.critics:
            self.critics[name], _ = Critic.objects.get_or_create(name=name)
            if name not in self.report.critics:
                self.report.critics.append(name)
        return self.critics[name]

    def _write_judgments(self, pairs: list[Pair], records: list[Record]) -> None:
        judgments = [
            Judgment(
                pair=pair,
                critic=self._critic(name),
                atoms=fields.atoms or [],
                label=fields.label,
                generated_text=fields.generated_text,
                source="import",
            )
            for pair, record in zip(pairs, records, strict=True)
            for name, fields in record.critics.items()
        ]
        Judgment.objects.bulk_create(judgments, batch_size=BATCH_SIZE)


def _write_checklists(pairs: list[Pair], records: list[Record]) -> None:
    checklists = Checklist.objects.bulk_create(
        [
            Checklist(
                pair=pair,
                slot=0,
                version=1 if record.human_atoms is not None else 0,
                status=Checklist.Status.SUBMITTED if record.human_atoms else Checklist.Status.TODO,
            )
            for pair, record in zip(pairs, records, strict=True)
        ]
    )
    with_atoms = [
        (checklist, record.human_atoms)
        for checklist, record in zip(checklists, records, strict=True)
        if record.human_atoms is not None
    ]
    revisions = ChecklistRevision.objects.bulk_create(
        [
            ChecklistRevision(checklist=c, number=1, atoms=atoms, source="import")
            for c, atoms in with_atoms
        ]
    )
    # One correlated UPDATE; bulk_update's CASE per row is many times slower on PostgreSQL.
    Checklist.objects.filter(pk__in=[c.pk for c, _ in with_atoms]).update(
        current=Subquery(
            ChecklistRevision.objects.filter(checklist=OuterRef("pk"))
            .order_by("-number")
            .values("pk")[:1]
        )
    )
    del revisions
