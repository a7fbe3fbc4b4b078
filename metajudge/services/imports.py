"""Import the reference MetaJudge inference output (prompt, samples, status, metadata)."""

from __future__ import annotations

import json
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from annotate.models import Checklist, Dataset, Pair
from annotate.records import RecordError, content_key, parse_label
from annotate.services.imports import ImportReport, iter_lines
from metajudge import scoring
from metajudge.models import Critic, Judgment, MatchResult, MatchRun


def _find_key(record: dict, wanted: str) -> str | None:
    """The reference looks critic fields up case-insensitively."""
    return next((k for k in record if k.lower() == wanted.lower()), None)


def _pair_for(dataset: Dataset, metadata: dict) -> Pair | None:
    pairs = Pair.objects.filter(dataset=dataset)
    if metadata.get("id") not in (None, ""):
        return pairs.filter(key=str(metadata["id"])).first()
    return pairs.filter(key=content_key(json.dumps(metadata))).first()


def _judgment(pair: Pair, critic: Critic, metadata: dict) -> Judgment:
    judgment = Judgment.objects.filter(pair=pair, critic=critic).first()
    if judgment:
        return judgment
    atoms_key = _find_key(metadata, f"{critic.name}-checklist")
    label_key = _find_key(metadata, f"{critic.name}-label")
    label = (
        parse_label(metadata[label_key])
        if label_key and metadata[label_key] not in ("", None)
        else None
    )
    return Judgment.objects.create(
        pair=pair,
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
    for line_no, text, error in iter_lines(stream, settings.IMPORT_MAX_LINE_BYTES):
        if text == "" and not error:
            continue
        try:
            if error:
                raise RecordError(error)
            _import_one(run, critic, text)
            report.created += 1
        except RecordError as exc:
            report.reject(line_no, str(exc))
    from metajudge.services.runs import run_finalize

    run_finalize(run_id=run.pk)
    run.refresh_from_db()
    return run, report


def _import_one(run: MatchRun, critic: Critic, text: str) -> None:
    if "\\u0000" in text:
        raise RecordError("contains a NUL character (\\u0000), which the database cannot store")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON: {exc.msg}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        raise RecordError("expected an object with a 'metadata' object")
    pair = _pair_for(run.dataset, obj["metadata"])
    if pair is None:
        raise RecordError("no stored pair matches metadata.id or the record's content")
    judgment = _judgment(pair, critic, obj["metadata"])
    score, lines = _score(obj, critic)
    checklist = Checklist.objects.filter(pair=pair, slot=0).first()
    same = checklist is not None and checklist.atoms == obj["metadata"].get("human-checklist")
    MatchResult.objects.update_or_create(
        run=run,
        pair=pair,
        defaults={
            "judgment": judgment,
            "revision_id": checklist.current_id if checklist else None,
            "stale": not same,
            "status": score.status,
            "error": score.error,
            "raw_text": _text(obj) or "",
            "lines": lines,
            "precision": score.precision,
            "recall": score.recall,
            "f1": score.f1,
            "average_precision": score.average_precision,
            "label_correct": scoring.outcome_correct(judgment.label, pair.preference),
        },
    )
