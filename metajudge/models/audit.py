"""Reviewers' verdicts on match results (the audit's triage)."""

from django.conf import settings
from django.db import models

from annotate.models import ChecklistRevision
from metajudge.models.runs import MatchResult


class AuditVerdict(models.Model):
    """A reviewer's verdict on one spurious-correct case. One per result; a new verdict replaces it.

    `revision` is the human checklist revision the reviewer looked at, so a verdict given before a
    checklist fix and re-run can be told apart from one on the current match.
    """

    class Kind(models.TextChoices):
        DECEPTIVE = "deceptive", "Deceptive (right label, wrong reasons)"
        MATCHER_ERROR = "matcher_error", "Matcher error (the atoms do match)"
        CHECKLIST_INCOMPLETE = "checklist_incomplete", "Human checklist incomplete"
        OTHER = "other", "Other"

    result = models.OneToOneField(
        MatchResult, on_delete=models.CASCADE, related_name="audit_verdict"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision = models.ForeignKey(
        ChecklistRevision, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recall = models.FloatField(null=True, help_text="the case's recall when the verdict was given")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on result {self.result_id}"


# --- genrm ---------------------------------------------------------------------------------------
