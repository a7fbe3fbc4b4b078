"""Reviewer verdicts on spurious-correct cases, and sending a pair back to its annotators."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from annotate.models import Checklist
from annotate.services.reviews import checklist_send_back_note
from metajudge.models import AuditVerdict, MatchResult

V = AuditVerdict.Kind
MAX_COMMENT = 4000


@transaction.atomic
def verdict_record(*, result: MatchResult, reviewer, kind: str, comment: str = "") -> AuditVerdict:
    """Record (or replace) the verdict on a case; "checklist incomplete" sends the pair back."""
    if kind not in V.values:
        raise ValidationError("Choose a verdict.")
    comment = comment.strip()[:MAX_COMMENT]
    if kind == V.CHECKLIST_INCOMPLETE and not comment:
        raise ValidationError("Say what the human checklist misses: the note goes to annotators.")
    verdict, _ = AuditVerdict.objects.update_or_create(
        result=result,
        defaults={
            "kind": kind,
            "comment": comment,
            "reviewer": reviewer,
            "revision_id": result.revision_id,
            "recall": result.recall,
        },
    )
    if kind == V.CHECKLIST_INCOMPLETE:
        checklist_send_back(pair_id=result.pair_id, reviewer=reviewer, note=comment)
    return verdict


@transaction.atomic
def checklist_send_back(*, pair_id: int, reviewer, note: str) -> Checklist:
    """Return the pair's reference checklist (slot 0) to annotators with the reviewer's note.

    Whatever its state (submitted, approved, to do, already sent back), the note is recorded as
    a review of the checklist, where its owner (or whoever takes it next) sees every review.
    """
    checklist = Checklist.objects.filter(pair_id=pair_id, slot=0).first()
    if checklist is None:
        raise ValidationError("This pair has no human checklist to send back.")
    checklist_send_back_note(checklist_id=checklist.pk, reviewer=reviewer, comment=f"Audit: {note}")
    checklist.refresh_from_db()
    return checklist
