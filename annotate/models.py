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


from annotate.models_agreement import DatasetAgreement  # noqa: E402,F401
from annotate.models_jobs import ImportJob  # noqa: E402,F401  (a model of this app)
