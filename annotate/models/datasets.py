"""Datasets, who may work on them in which role, and their preference pairs."""

import json

from django.conf import settings
from django.db import models


class Dataset(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="datasets",
        blank=True,
        through="DatasetMembership",
    )
    checklists_per_pair = models.PositiveSmallIntegerField(default=1)
    blind_slots = models.BooleanField(
        null=True,
        blank=True,
        help_text="Independent slots: imported and other slots' atoms are not offered as "
        "suggestions. Blank: on when the dataset is created with more than one slot per pair.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.blind_slots is None:
            self.blind_slots = self.checklists_per_pair > 1
        super().save(*args, **kwargs)


class DatasetMembership(models.Model):
    """A user's place in one dataset, and the role they have there: a user may review one
    dataset and annotate another. Every access check reads the role from here."""

    class Role(models.TextChoices):
        ANNOTATOR = "annotator", "Annotator"
        REVIEWER = "reviewer", "Reviewer"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ANNOTATOR)

    class Meta:
        db_table = "annotate_dataset_members"  # the table the plain many-to-many used
        unique_together = [("dataset", "user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.dataset_id}"


class Pair(models.Model):
    """One preference sample. `raw` keeps the imported record so export can reproduce it."""

    class Format(models.TextChoices):
        RATIONALERM = "rationalerm", "RationaleRM"
        HELPSTEER3 = "helpsteer3", "HelpSteer3"
        RALIGN = "ralign", "R-Align"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="pairs")
    key = models.CharField(max_length=200, help_text="record id, else a content hash")
    external_id = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="order in the imported file")
    domain = models.CharField(max_length=64, blank=True, db_index=True)
    language = models.CharField(max_length=64, blank=True)
    context = models.JSONField(default=list, help_text="conversation turns: [{role, content}]")
    response_1 = models.TextField()
    response_2 = models.TextField()
    preference = models.SmallIntegerField(
        null=True, blank=True, help_text="1 or 2 (the better response), 0 for a tie"
    )
    preference_strength = models.SmallIntegerField(null=True, blank=True, help_text="-3..3")
    human_reasons = models.JSONField(default=list, help_text="annotators' free-text reasons")
    golden_judgment = models.TextField(blank=True, help_text="R-Align gt_judgment")
    source_format = models.CharField(max_length=20, choices=Format.choices)
    raw_json = models.TextField(help_text="the imported line, byte for byte")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "key"], name="pair_unique_key"),
        ]
        indexes = [
            models.Index(fields=["dataset", "domain"]),
            models.Index(fields=["dataset", "position"]),
            # Index-only scans for per-dataset counts and pair-id joins (22k-pair pages).
            models.Index(fields=["dataset", "id"], name="pair_dataset_id_idx"),
        ]

    def __str__(self) -> str:
        return self.external_id or self.key

    @property
    def raw(self) -> dict:
        return json.loads(self.raw_json)
