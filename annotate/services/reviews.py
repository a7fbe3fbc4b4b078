"""Reviewer verdicts on submitted checklists: approve, or send back with a comment."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotate.models import Checklist, Review


@transaction.atomic
def checklist_review(*, checklist_id: int, reviewer, verdict: str, comment: str = "") -> Review:
    """Record the verdict; a checklist sent back returns to its owner with the comment."""
    if verdict not in Review.Verdict.values:
        raise ValidationError("Choose approve or send back.")
    comment = comment.strip()
    if verdict == Review.Verdict.SEND_BACK and not comment:
        raise ValidationError("Say what to fix: a checklist is sent back with a comment.")
    checklist = Checklist.objects.select_for_update().get(pk=checklist_id)
    if checklist.status != Checklist.Status.SUBMITTED:
        raise ValidationError("Only submitted checklists can be reviewed.")
    status = (
        Checklist.Status.APPROVED
        if verdict == Review.Verdict.APPROVE
        else Checklist.Status.SENT_BACK
    )
    Checklist.objects.filter(pk=checklist.pk).update(status=status, updated_at=timezone.now())
    return Review.objects.create(
        checklist=checklist,
        revision_id=checklist.current_id,
        reviewer=reviewer,
        verdict=verdict,
        comment=comment,
    )


@transaction.atomic
def checklist_send_back_note(*, checklist_id: int, reviewer, comment: str) -> Review:
    """Send a checklist back from whatever state it is in (approved, to do, in progress, already
    sent back), with the note recorded as a review: a note is never dropped."""
    comment = comment.strip()
    if not comment:
        raise ValidationError("Say what to fix: a checklist is sent back with a comment.")
    checklist = Checklist.objects.select_for_update().get(pk=checklist_id)
    if checklist.status == Checklist.Status.SUBMITTED:
        return checklist_review(
            checklist_id=checklist.pk, reviewer=reviewer, verdict="send_back", comment=comment
        )
    Checklist.objects.filter(pk=checklist.pk).update(
        status=Checklist.Status.SENT_BACK, updated_at=timezone.now()
    )
    return Review.objects.create(
        checklist=checklist,
        revision_id=checklist.current_id,
        reviewer=reviewer,
        verdict=Review.Verdict.SEND_BACK,
        comment=comment,
    )
