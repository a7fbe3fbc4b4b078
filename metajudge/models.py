from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from annotate.models import ChecklistRevision, Dataset, Pair
from metajudge.llm import keys


class Critic(models.Model):
    """The model being judged (a GenRM or an LLM judge)."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Judgment(models.Model):
    """A critic's decision on a pair: its text, its label and its ordered atoms."""

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="judgments")
    critic = models.ForeignKey(Critic, on_delete=models.CASCADE, related_name="judgments")
    generated_text = models.TextField(blank=True)
    label = models.SmallIntegerField(null=True, blank=True, help_text="1 or 2")
    atoms = models.JSONField(default=list)
    source = models.CharField(max_length=20, default="import")
    error = models.TextField(blank=True)
    tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pair", "critic"], name="judgment_unique_pair_critic"),
        ]
        indexes = [models.Index(fields=["critic", "pair"])]

    def __str__(self) -> str:
        return f"{self.critic_id} on pair {self.pair_id}"


class JudgeEndpoint(models.Model):
    """An OpenAI-compatible endpoint. The key stays in the environment, named by api_key_env."""

    name = models.CharField(max_length=100, unique=True)
    base_url = models.URLField(max_length=500, blank=True, help_text="blank: OPENAI_BASE_URL")
    model = models.CharField(max_length=200)
    api_key_env = models.CharField(max_length=100, default="OPENAI_API_KEY")
    max_concurrency = models.PositiveIntegerField(default=16)
    requests_per_minute = models.PositiveIntegerField(default=0, help_text="0: no limit")
    # The reference inference script's defaults, so a live run asks what the reference asks.
    temperature = models.FloatField(default=0.6)
    max_tokens = models.PositiveIntegerField(default=8192)
    timeout = models.FloatField(default=120.0, help_text="seconds per call")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.model})"

    def clean(self) -> None:
        problem = keys.refusal(self.api_key_env, settings.JUDGE_API_KEY_ENV_ALLOWED)
        if problem:
            raise ValidationError({"api_key_env": problem})


class PromptTemplate(models.Model):
    """Prompts are data: versioned, readable, replaceable."""

    class Kind(models.TextChoices):
        METAJUDGE = "metajudge", "MetaJudge matching"
        VERDICT = "verdict", "Binary verdict meta-judge"
        GENRM = "genrm", "GenRM judgment"
        ATOMIZER = "atomizer", "Atomizer"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    text = models.TextField()
    strict_grammar = models.BooleanField(
        default=False,
        help_text="MetaJudge: also ask again unless the answer has exactly R1..Rn on the five "
        "levels (the reference asks again only on a missing block, a score outside [0, 1] or "
        "R numbers out of sequence)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="template_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


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

from metajudge.genrm_models import GenrmItem, GenrmRun  # noqa: E402,F401
