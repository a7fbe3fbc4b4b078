"""The one module of annotate that enqueues its tasks (services never import tasks)."""

from __future__ import annotations

import logging

from django.core.cache import cache
from kombu.exceptions import OperationalError

from annotate.models import Dataset, DatasetAgreement
from annotate.selectors_agreement import agreement_summary
from annotate.services.agreement import agreement_state
from annotate.tasks import compute_agreement, run_import

logger = logging.getLogger(__name__)
ASK_AGAIN = 300  # seconds: a compute asked for a fingerprint is not asked again sooner


def import_enqueue(job_id: int) -> None:
    run_import.delay(job_id)


def on_checklists_changed(sender, *, dataset_id: int, **kwargs) -> None:
    try:
        compute_agreement.delay(dataset_id)
    except OperationalError:  # the broker is down: the import stands; a page view asks again
        logger.warning("could not queue the agreement of dataset %s", dataset_id)


def agreement_for(dataset: Dataset) -> dict:
    """The stored human agreement, with `computed_at` and `stale` (the checklists changed since;
    a recompute is then asked of a worker, once per fingerprint)."""
    now, stored = agreement_state(dataset)
    if stored is None or stored.fingerprint != now:
        if cache.add(f"agreement:asked:{dataset.pk}:{now}", 1, timeout=ASK_AGAIN):
            compute_agreement.delay(dataset.pk)
            # an eager or quick worker may be done already
            stored = DatasetAgreement.objects.filter(dataset=dataset).first()
    if stored is None:
        return {**agreement_summary({}, with_interval=True), "computed_at": None, "stale": True}
    return {**stored.value, "computed_at": stored.computed_at, "stale": stored.fingerprint != now}
