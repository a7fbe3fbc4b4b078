"""Import the reference MetaJudge inference output (prompt, samples, status, metadata)."""

from __future__ import annotations

import json
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from annotate.models import Checklist, Dataset, Pair
from annotate.records import RecordError, content_key, parse_label
from annotate.services.bulk_pairs import analyze_tables
from annotate.services.imports import ImportReport, iter_lines
from metajudge.method import scoring
from metajudge.models import Critic, Judgment, MatchResult, MatchRun
from metajudge.runs.match_runs import run_finalize

BATCH_SIZE = 1000
RESULT_FIELDS = [
    "judgment",
    "revision",
    "stale",
    "status",
    "error",
    "raw_text",
    "lines",
    "precision",
    "recall",
    "f1",
    "average_precision",
    "label_correct",
    "updated_at",
]


def _find_key(record: dict, wanted: str) -> str | None:
    """The reference looks critic fields up case-insensitively."""
    return next((k for k in record if k.lower() == wanted.lower()), None)


def _pair_key(metadata: dict) -> str:
    if metadata.get("id") not in (None, ""):
        return str(metadata["id"])
    return content_key(json.dumps(metadata))


def _new_judgment(pair_id: int, critic: Critic, metadata: dict) -> Judgment:
    atoms_key = _find_key(metadata, f"{critic.name}-checklist")
    label_key = _find_key(metadata, f"{critic.name}-label")
    label = (
        parse_label(metadata[label_key])
        if label_key and metadata[label_key] not in ("", None)
        else None
    )
    return Judgment(
        pair_id=pair_id,
        critic=critic,
        atoms=metadata.get(atoms_key) or [],
        label=label or None,
        generated_text=str(metadata.get(f"{critic.name}-generated_text", "")),
        source="import",
    )


def _text(obj: dict) -> str | None:
    samples = obj.get("samples")
    if not isinstance(samples, list) or not samples or not isinstance(samples[0], dict):
        return None
    text = samples[0].get("generated_text")
    return text if isinstance(text, str) else None


def _score(obj: dict, critic: Critic) -> tuple[scoring.SampleScore, list]:
    metadata, text = obj["metadata"], _text(obj)
    human = metadata.get("human-checklist")
    model_key = _find_key(metadata, f"{critic.name}-checklist")
    parsed = scoring.parse_answer(text)
    if parsed.error or text is None:
        return scoring.SampleScore(scoring.ERROR, parsed.error or "no samples"), []
    if not isinstance(human, list) or model_key is None:
        return scoring.SampleScore(scoring.ERROR, "metadata lacks a checklist"), list(parsed.lines)
    score = scoring.score_sample(
        text,
        len(human),
        len(metadata[model_key]),
        max_checklist_len=settings.METAJUDGE_MAX_CHECKLIST_LEN,
        precision_cap=settings.METAJUDGE_PRECISION_CAP,
    )
    return score, [list(x) for x in parsed.lines]


@transaction.atomic
def metajudge_import(
    *, stream: BinaryIO, dataset: Dataset, critic_name: str, judge_name: str = "imported"
) -> tuple[MatchRun, ImportReport]:
    critic, _ = Critic.objects.get_or_create(name=critic_name)
    run, _ = MatchRun.objects.get_or_create(
        dataset=dataset,
        critic=critic,
        matcher=MatchRun.Matcher.IMPORT,
        judge_model=judge_name,
        endpoint=None,
        template=None,
        domain="",
    )
    report = ImportReport()
    batch: list[tuple[int, dict | RecordError]] = []
    for line_no, text, error in iter_lines(stream, settings.IMPORT_MAX_LINE_BYTES):
        if text == "" and not error:
            continue
        try:
            if error:
                raise RecordError(error)
            batch.append((line_no, _parse(text)))
        except RecordError as exc:
            batch.append((line_no, exc))
        if len(batch) >= BATCH_SIZE:
            _import_batch(run, critic, batch, report)
            batch = []
    _import_batch(run, critic, batch, report)
    run_finalize(run_id=run.pk)
    run.refresh_from_db()
    transaction.on_commit(lambda: analyze_tables([MatchResult._meta.db_table]))
    return run, report


def _parse(text: str) -> dict:
    if "\\u0000" in text:
        raise RecordError("contains a NUL character (\\u0000), which the database cannot store")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON: {exc.msg}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        raise RecordError("expected an object with a 'metadata' object")
    return obj


def _import_batch(run: MatchRun, critic: Critic, batch: list, report: ImportReport) -> None:
    """A few queries for a thousand lines: look everything up at once, upsert the results."""
    lookup = _Lookup(run.dataset_id, critic, [obj for _, obj in batch if isinstance(obj, dict)])
    results: dict[int, MatchResult] = {}
    for line_no, obj in batch:
        try:
            if isinstance(obj, RecordError):
                raise obj
            result = _result(run, critic, obj, lookup)
        except RecordError as exc:
            report.reject(line_no, str(exc))
            continue
        results[result.pair_id] = result  # a later line for the same pair wins
        report.created += 1
    Judgment.objects.bulk_create(lookup.new_judgments.values())
    for result in results.values():
        result.judgment_id = result.judgment.pk
    MatchResult.objects.bulk_create(
        results.values(),
        update_conflicts=True,
        unique_fields=["run", "pair"],
        update_fields=RESULT_FIELDS,
    )


class _Lookup:
    """Pairs, judgments and reference checklists of a batch, fetched in three queries."""

    def __init__(self, dataset_id: int, critic: Critic, objs: list[dict]) -> None:
        keys = {_pair_key(obj["metadata"]) for obj in objs}
        self.pairs = {
            key: (pk, preference)
            for pk, key, preference in Pair.objects.filter(
                dataset_id=dataset_id, key__in=keys
            ).values_list("pk", "key", "preference")
        }
        ids = [pk for pk, _ in self.pairs.values()]
        self.judgments = {
            j.pair_id: j
            for j in Judgment.objects.filter(critic=critic, pair_id__in=ids).only(
                "pk", "pair_id", "label"
            )
        }
        self.checklists = {
            pair_id: (current_id, atoms if current_id else [])
            for pair_id, current_id, atoms in Checklist.objects.filter(
                pair_id__in=ids, slot=0
            ).values_list("pair_id", "current_id", "current__atoms")
        }
        self.new_judgments: dict[int, Judgment] = {}

    def judgment(self, pair_id: int, critic: Critic, metadata: dict) -> Judgment:
        found = self.judgments.get(pair_id) or self.new_judgments.get(pair_id)
        if found is None:
            found = _new_judgment(pair_id, critic, metadata)
            self.new_judgments[pair_id] = found
        return found


def _result(run: MatchRun, critic: Critic, obj: dict, lookup: _Lookup) -> MatchResult:
    metadata = obj["metadata"]
    pair = lookup.pairs.get(_pair_key(metadata))
    if pair is None:
        raise RecordError("no stored pair matches metadata.id or the record's content")
    pair_id, preference = pair
    judgment = lookup.judgment(pair_id, critic, metadata)
    score, lines = _score(obj, critic)
    checklist = lookup.checklists.get(pair_id)
    same = checklist is not None and checklist[1] == metadata.get("human-checklist")
    return MatchResult(
        run=run,
        pair_id=pair_id,
        judgment=judgment,
        revision_id=checklist[0] if checklist else None,
        stale=not same,
        status=score.status,
        error=score.error,
        raw_text=_text(obj) or "",
        lines=lines,
        precision=score.precision,
        recall=score.recall,
        f1=score.f1,
        average_precision=score.average_precision,
        label_correct=scoring.outcome_correct(judgment.label, preference),
    )
