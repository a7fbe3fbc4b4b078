"""Generation runs: a GenRM judging a dataset, or the atomizer splitting human reasons.

Each run owns one item per pair; the item carries the claim state, so chunks can run twice
safely."""

from django.db import models

from annotate.models import Dataset, Pair
from metajudge.models.catalog import Critic, JudgeEndpoint, PromptTemplate
from metajudge.models.runs import MatchRun, RunProgress


class GenrmRun(RunProgress):
    """A critic (or the atomizer) over a dataset. Progress lives here, recounted from items."""

    class Kind(models.TextChoices):
        GENRM = "genrm", "GenRM judgments"
        ATOMIZE_HUMAN = "atomize_human", "Atomize human reasons"

    class AtomsFrom(models.TextChoices):
        AUTO = "auto", "The answer's reason list, else the atomizer"
        ANSWER = "answer", "The answer's reason list"
        ATOMIZER = "atomizer", "An atomizer call on the rationale"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.GENRM)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="genrm_runs")
    critic = models.ForeignKey(
        Critic, null=True, blank=True, on_delete=models.CASCADE, related_name="genrm_runs"
    )
    endpoint = models.ForeignKey(JudgeEndpoint, on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(PromptTemplate, on_delete=models.PROTECT, related_name="+")
    atomizer_template = models.ForeignKey(
        PromptTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    atoms_from = models.CharField(max_length=10, choices=AtomsFrom.choices, default=AtomsFrom.AUTO)
    atomize_think = models.BooleanField(default=False, help_text="also atomize <think> reasoning")
    chain_matcher = models.CharField(
        max_length=10, blank=True, help_text="offline or llm: start a MetaJudge run when done"
    )
    chain_endpoint = models.ForeignKey(
        JudgeEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chained_run = models.ForeignKey(
        MatchRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["dataset", "kind", "-created_at"])]

    def __str__(self) -> str:
        who = self.critic.name if self.critic_id else "atomizer"
        return f"{self.get_kind_display()} {who} on {self.dataset_id} ({self.state})"


class GenrmItem(models.Model):
    """One pair of a generation run: claim state, attempts and the last error."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "In progress"
        DONE = "done", "Done"
        ERROR = "error", "Error"

    run = models.ForeignKey(GenrmRun, on_delete=models.CASCADE, related_name="items")
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, help_text="the last failed attempt's cause")
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text="when the last attempt failed; the judgment is kept"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True)
    claim_owner = models.CharField(max_length=64, blank=True, help_text="task id of the holder")
    claimed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "pair"], name="genrm_item_unique_run_pair"),
        ]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self) -> str:
        return f"run {self.run_id} pair {self.pair_id}: {self.status}"
