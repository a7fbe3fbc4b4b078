"""Reviewer verdicts on spurious-correct cases, and sending a pair back to its annotators."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotate.models import Checklist
from annotate.services.reviews import checklist_review
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

    A submitted checklist goes through the workspace's own review service, so its owner sees the
    note where they see every other review; any other state is simply reopened as sent back.
    """
    checklist = Checklist.objects.select_for_update().filter(pair_id=pair_id, slot=0).first()
    if checklist is None:
        raise ValidationError("This pair has no human checklist to send back.")
    if checklist.status == Checklist.Status.SUBMITTED:
        checklist_review(
            checklist_id=checklist.pk,
            reviewer=reviewer,
            verdict="send_back",
            comment=f"Audit: {note}",
        )
    elif checklist.status != Checklist.Status.SENT_BACK:
        Checklist.objects.filter(pk=checklist.pk).update(
            status=Checklist.Status.SENT_BACK, updated_at=timezone.now()
        )
    checklist.refresh_from_db()
    return checklist
