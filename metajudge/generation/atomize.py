"""Human atoms proposed by the atomizer from annotators' free-text reasons.

They are suggestions for the annotator workspace (AtomSuggestion, source "atomizer"), never the
human checklist itself: a person accepts, edits or rejects each one."""

from __future__ import annotations

from django.db import transaction

from annotate.models import AtomSuggestion


@transaction.atomic
def suggestions_add(*, batch: list[tuple[int, list[str]]]) -> int:
    """Add each pair's atoms as open suggestions. A text already suggested for the pair (open,
    accepted or rejected) is left as it is, so re-running never duplicates or re-opens one."""
    rows = [
        AtomSuggestion(
            pair_id=pair_id, text=text, source=AtomSuggestion.Source.ATOMIZER, position=position
        )
        for pair_id, atoms in batch
        for position, text in enumerate(atoms)
    ]
    before = AtomSuggestion.objects.filter(pair_id__in={p for p, _ in batch}).count()
    AtomSuggestion.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return AtomSuggestion.objects.filter(pair_id__in={p for p, _ in batch}).count() - before
