"""Suggested atoms (the atomizer's, from free-text reasons) and annotators' decisions."""

from django.conf import settings
from django.db import models

from annotate.models.checklists import Checklist
from annotate.models.datasets import Pair


class AtomSuggestion(models.Model):
    """A proposed atom for a pair: from the imported checklist or from the atomizer.

    `state` and `decided_*` record the latest decision on the pair. With k independent checklists
    per pair each checklist decides for itself (SuggestionDecision), so that one annotator's
    choices never leak into another's editor.
    """

    class Source(models.TextChoices):
        IMPORT = "import", "Imported checklist"
        ATOMIZER = "atomizer", "Atomizer"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="suggestions")
    text = models.TextField()
    source = models.CharField(max_length=10, choices=Source.choices)
    position = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pair", "source", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pair", "source", "text"], name="suggestion_unique_text"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class SuggestionDecision(models.Model):
    """What one checklist's editor did with a suggestion (accepted as-is, edited, rejected)."""

    suggestion = models.ForeignKey(
        AtomSuggestion, on_delete=models.CASCADE, related_name="decisions"
    )
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="decisions")
    state = models.CharField(max_length=10, choices=AtomSuggestion.State.choices)
    text = models.TextField(blank=True, help_text="the atom as accepted (edited or not)")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "checklist"], name="decision_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.state} suggestion {self.suggestion_id} in checklist {self.checklist_id}"
