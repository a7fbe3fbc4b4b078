"""Human checklists (k slots per pair), every saved revision, and reviews of them."""

from django.conf import settings
from django.db import models

from annotate.models.datasets import Pair


class Checklist(models.Model):
    """A human checklist for a pair. Slot 0 is the pair's reference checklist."""

    class Status(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        SENT_BACK = "sent_back", "Sent back"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="checklists")
    slot = models.PositiveSmallIntegerField(default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checklists",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TODO)
    current = models.ForeignKey(
        "ChecklistRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=0, help_text="optimistic lock: bumps every save")
    claim_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="an unfinished claim past this time may be taken over"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pair", "slot"], name="checklist_unique_slot"),
            # An annotator holds at most one slot per pair: k checklists stay independent.
            models.UniqueConstraint(
                fields=["pair", "owner"],
                condition=models.Q(owner__isnull=False),
                name="checklist_one_slot_per_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "submitted_at"]),
        ]

    OPEN_STATUSES = ("todo", "in_progress", "sent_back")
    EDITABLE_STATUSES = OPEN_STATUSES
    DONE_STATUSES = ("submitted", "approved")

    def __str__(self) -> str:
        return f"checklist {self.pk} (pair {self.pair_id}, slot {self.slot})"

    @property
    def atoms(self) -> list[str]:
        return list(self.current.atoms) if self.current_id else []


class ChecklistRevision(models.Model):
    """Every save is a new row; nothing is overwritten."""

    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    atoms = models.JSONField(default=list)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    source = models.CharField(max_length=20, default="edit", help_text="import, edit, restore")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checklist", "number"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "number"], name="revision_unique_number"),
        ]

    def __str__(self) -> str:
        return f"revision {self.number} of checklist {self.checklist_id}"


class Review(models.Model):
    """A reviewer's verdict on a submitted checklist. The history stays; the latest one counts."""

    class Verdict(models.TextChoices):
        APPROVE = "approve", "Approved"
        SEND_BACK = "send_back", "Sent back"

    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="reviews")
    revision = models.ForeignKey(
        ChecklistRevision, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checklist", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} checklist {self.checklist_id}"
