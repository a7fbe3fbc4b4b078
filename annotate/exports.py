"""Stream a dataset back out as RationaleRM JSONL or CSV, in constant memory."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from django.db.models import OuterRef, Subquery

from annotate import critic_judgments
from annotate.csvsafe import csv_row
from annotate.models import Checklist, Dataset, Pair
from annotate.records import CRITIC_SUFFIXES, HUMAN_KEY

CHUNK = 2000


def export_pairs(dataset: Dataset, *, domain: str = "", critic: str = ""):
    slot0 = Checklist.objects.filter(pair=OuterRef("pk"), slot=0)
    pairs = Pair.objects.filter(dataset=dataset)
    if domain:
        pairs = pairs.filter(domain=domain)
    if critic:
        pairs = pairs.filter(judgments__critic__name=critic)
    return (
        pairs.order_by("position", "id")
        .annotate(
            human_atoms=Subquery(slot0.values("current__atoms")[:1]),
            human_revision=Subquery(slot0.values("current__number")[:1]),
        )
        .values_list(
            "id",
            "raw_json",
            "human_atoms",
            "human_revision",
            "external_id",
            "domain",
            "language",
            "preference",
        )
    )


def _chunks(rows: Iterable, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _generated_judgments(pair_ids: list[int], critic: str) -> dict[int, list]:
    """Judgments produced by the app (not imported) belong in the record too."""
    qs = (
        critic_judgments.judgment_model()
        .objects.filter(pair_id__in=pair_ids)
        .exclude(source="import")
    )
    if critic:
        qs = qs.filter(critic__name=critic)
    found: dict[int, list] = {}
    for judgment in qs.select_related("critic"):
        found.setdefault(judgment.pair_id, []).append(judgment)
    return found


def _as_json(atoms) -> list:
    # SQLite hands back JSON from a subquery as text; PostgreSQL as a list.
    return json.loads(atoms) if isinstance(atoms, str) else atoms


def _patched(raw_json: str, atoms, revision, judgments: list, critic: str) -> str:
    untouched = revision in (None, 1) and not judgments and not critic
    if untouched:
        return raw_json  # byte-for-byte round trip
    record = json.loads(raw_json)
    if atoms is not None:
        record[HUMAN_KEY] = _as_json(atoms)
    if critic:
        record = {k: v for k, v in record.items() if _keeps(k, critic)}
    for judgment in judgments:
        name = judgment.critic.name
        record[f"{name}-checklist"] = judgment.atoms
        record[f"{name}-label"] = judgment.label
        record[f"{name}-generated_text"] = judgment.generated_text
    return json.dumps(record, ensure_ascii=False)


def _keeps(key: str, critic: str) -> bool:
    if key == HUMAN_KEY or not key.endswith(CRITIC_SUFFIXES):
        return True
    return key.startswith(f"{critic}-")


def iter_rationalerm(dataset: Dataset, *, domain: str = "", critic: str = "") -> Iterator[str]:
    rows = export_pairs(dataset, domain=domain, critic=critic).iterator(chunk_size=CHUNK)
    for chunk in _chunks(rows):
        generated = _generated_judgments([r[0] for r in chunk], critic)
        for pair_id, raw_json, atoms, revision, *_ in chunk:
            yield _patched(raw_json, atoms, revision, generated.get(pair_id, []), critic) + "\n"


def iter_csv(dataset: Dataset, *, domain: str = "", critic: str = "") -> Iterator[str]:
    critics = list(
        critic_judgments.critic_model()
        .objects.filter(judgments__pair__dataset=dataset)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )
    if critic:
        critics = [c for c in critics if c == critic]
    header = ["id", "domain", "language", "preference", HUMAN_KEY, "revision"]
    for name in critics:
        header += [f"{name}-label", f"{name}-checklist"]
    yield csv_row(header)
    rows = export_pairs(dataset, domain=domain, critic=critic).iterator(chunk_size=CHUNK)
    for chunk in _chunks(rows):
        by_pair = _judgments_by_pair([r[0] for r in chunk], critics)
        for pair_id, _raw, atoms, revision, ext_id, dom, lang, pref in chunk:
            row = [ext_id or pair_id, dom, lang, pref, "\n".join(_as_json(atoms) or []), revision]
            for name in critics:
                label, critic_atoms = by_pair.get((pair_id, name), (None, []))
                row += [label if label is not None else "", "\n".join(critic_atoms)]
            yield csv_row(row)


def _judgments_by_pair(pair_ids: list[int], critics: list[str]) -> dict:
    rows = (
        critic_judgments.judgment_model()
        .objects.filter(pair_id__in=pair_ids, critic__name__in=critics)
        .values_list("pair_id", "critic__name", "label", "atoms")
    )
    return {(pid, name): (label, atoms) for pid, name, label, atoms in rows}
