"""Human-vs-human agreement, stored: a worker computes it when the checklists changed (their
fingerprint), pages read the stored value. One query tells both the fingerprint and what is
stored; the computation reads the checklists once (the fingerprint comes from the same rows)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Max
from django.utils import timezone

from annotate.models import Checklist, Dataset, DatasetAgreement
from annotate.selectors_agreement import AGREEMENT_STATUSES, agreement_summary


def fingerprint(n: int, changed: datetime | None, revision: int | None) -> str:
    """Checklists of a dataset: how many, the last change, the newest revision."""
    return f"{n}:{changed.isoformat() if changed else '-'}:{revision or '-'}"


def agreement_state(dataset: Dataset) -> tuple[str, DatasetAgreement | None]:
    """(the checklists' fingerprint now, the stored agreement or None), in one query."""
    row = (
        Dataset.objects.filter(pk=dataset.pk)
        .select_related("stored_agreement")
        .annotate(
            n=Count("pairs__checklists"),
            changed=Max("pairs__checklists__updated_at"),
            revision=Max("pairs__checklists__current_id"),
        )
        .get()
    )
    stored = getattr(row, "stored_agreement", None)  # None: never computed
    return fingerprint(row.n, row.changed, row.revision), stored


def agreement_compute(*, dataset_id: int) -> DatasetAgreement:
    """Compute and store (upsert: safe to run twice). The fingerprint is of the rows read, so
    an edit that lands meanwhile leaves a fingerprint that differs and is computed again."""
    rows = (
        Checklist.objects.filter(pair__dataset_id=dataset_id)
        .order_by("pair_id", "slot")
        .values_list("pair_id", "status", "current_id", "updated_at", "current__atoms")
    )
    n, changed, revision = 0, None, None
    by_pair: dict[int, list[list[str]]] = {}
    for pair_id, status, current_id, updated_at, atoms in rows:
        n += 1
        changed = updated_at if changed is None or updated_at > changed else changed
        if current_id is not None and (revision is None or current_id > revision):
            revision = current_id
        if status in AGREEMENT_STATUSES and current_id is not None and atoms:
            by_pair.setdefault(pair_id, []).append(list(atoms))
    stored = DatasetAgreement(
        dataset_id=dataset_id,
        fingerprint=fingerprint(n, changed, revision),
        value=agreement_summary(by_pair, with_interval=True),
        computed_at=timezone.now(),
    )
    DatasetAgreement.objects.bulk_create(
        [stored],
        update_conflicts=True,
        unique_fields=["dataset"],
        update_fields=["fingerprint", "value", "computed_at"],
    )
    return stored
