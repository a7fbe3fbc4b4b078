"""Match runs (MetaJudge scoring of a critic on a dataset), their results, the answer cache,
and the state and counters that every kind of run keeps."""

from django.conf import settings
from django.db import models

from annotate.models import ChecklistRevision, Dataset, Pair
from metajudge.models.catalog import Critic, JudgeEndpoint, Judgment, PromptTemplate


class RunProgress(models.Model):
    """State, counters and times that every kind of run keeps (match runs, generation runs)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        ABORTED = "aborted", "Aborted"
        FAILED = "failed", "Failed"

    concurrency = models.PositiveIntegerField(default=16)
    domain = models.CharField(max_length=64, blank=True, help_text="subset filter")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def progress(self) -> float:
        return (self.done_count / self.total) if self.total else 1.0


class MatchRun(RunProgress):
    """critic x judge x template x dataset (subset). Progress lives here."""

    class Matcher(models.TextChoices):
        LLM = "llm", "LLM MetaJudge"
        OFFLINE = "offline", "Offline matcher (approximate)"
        VERDICT = "verdict", "Binary verdict meta-judge"
        IMPORT = "import", "Imported results"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="match_runs")
    critic = models.ForeignKey(Critic, on_delete=models.CASCADE, related_name="match_runs")
    matcher = models.CharField(max_length=10, choices=Matcher.choices)
    endpoint = models.ForeignKey(JudgeEndpoint, null=True, blank=True, on_delete=models.SET_NULL)
    template = models.ForeignKey(PromptTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    judge_model = models.CharField(max_length=200, blank=True)
    skip_unscorable = models.BooleanField(
        default=False,
        help_text="samples with no model atoms or more than the maximum were skipped without a "
        "call (the reference asks them, and counts a malformed answer there as an error)",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["dataset", "critic", "-created_at"])]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.matcher})"


class MatchResult(models.Model):
    """One sample of a run, upserted on (run, pair) so a task may run twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "In progress"
        VALID = "valid", "Valid"
        SKIPPED = "skipped", "Skipped"
        ERROR = "error", "Error"

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="results")
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="match_results")
    judgment = models.ForeignKey(Judgment, null=True, on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(
        ChecklistRevision,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the exact human checklist revision this result scored",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stale = models.BooleanField(default=False)
    label_correct = models.BooleanField(null=True)
    raw_text = models.TextField(blank=True)
    lines = models.JSONField(default=list)
    precision = models.FloatField(null=True)
    recall = models.FloatField(null=True)
    f1 = models.FloatField(null=True)
    average_precision = models.FloatField(null=True)
    error = models.TextField(blank=True)
    verdict = models.CharField(max_length=100, blank=True, help_text="verdict mode answer")
    attempts = models.PositiveSmallIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cached = models.BooleanField(default=False)
    format_retries = models.PositiveSmallIntegerField(
        default=0,
        help_text="re-asks after answers that broke the format (reference: format_retry_count)",
    )
    retry_reasons = models.JSONField(default=list, help_text="why each re-ask was made")
    claim_token = models.UUIDField(null=True, blank=True)
    claim_owner = models.CharField(max_length=64, blank=True, help_text="task id of the holder")
    claimed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "pair"], name="result_unique_run_pair"),
        ]
        indexes = [
            models.Index(fields=["run", "status"]),
            models.Index(fields=["run", "label_correct", "recall"]),
            # Audit triage: a critic's spurious-correct queue, worst recall first, keyset paged.
            models.Index(
                fields=["run", "recall", "id"],
                name="result_triage_idx",
                condition=models.Q(status="valid", label_correct=True),
            ),
            # Audit figure cache: the newest write and the stale count of a run, both indexed.
            models.Index(fields=["run", "updated_at"], name="result_run_updated_idx"),
            models.Index(
                fields=["run"], name="result_run_stale_idx", condition=models.Q(stale=True)
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} pair {self.pair_id}: {self.status}"


class CachedAnswer(models.Model):
    """An identical MetaJudge question is never paid for twice."""

    key = models.CharField(max_length=64, unique=True)
    text = models.TextField()
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


# --- audit -------------------------------------------------------------------------------------
