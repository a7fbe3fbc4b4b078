"""Accept (as is or edited) or reject a suggested atom inside one checklist's editor."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotate.models import AtomSuggestion, Checklist, SuggestionDecision
from annotate.services.checklists import SaveResult, checklist_save


@transaction.atomic
def suggestion_decide(
    *,
    suggestion_id: int,
    checklist_id: int,
    user,
    accept: bool,
    atoms: list[str],
    version: int,
    text: str = "",
) -> SaveResult:
    """Accepting appends the atom (edited text if given) to the editor's atoms and saves them."""
    checklist = Checklist.objects.select_related("current").get(pk=checklist_id)
    suggestion = AtomSuggestion.objects.filter(pk=suggestion_id, pair_id=checklist.pair_id).first()
    if suggestion is None:
        raise ValidationError("No such suggestion for this pair.")
    text = " ".join((text or suggestion.text).split())
    if accept:
        result = checklist_save(
            checklist_id=checklist_id, user=user, atoms=[*atoms, text], version=version
        )
    else:
        # Rejecting changes no atoms, but it still needs the editor's lock and ownership.
        result = checklist_save(checklist_id=checklist_id, user=user, atoms=atoms, version=version)
    state = AtomSuggestion.State.ACCEPTED if accept else AtomSuggestion.State.REJECTED
    SuggestionDecision.objects.update_or_create(
        suggestion=suggestion,
        checklist=checklist,
        defaults={"state": state, "text": text if accept else "", "decided_by": user},
    )
    AtomSuggestion.objects.filter(pk=suggestion.pk).update(
        state=state, decided_by=user, decided_at=timezone.now()
    )
    return result
