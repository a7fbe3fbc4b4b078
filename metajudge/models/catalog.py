"""What runs are about: critics and their judgments, judge endpoints, prompt templates."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from annotate.models import Pair
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
