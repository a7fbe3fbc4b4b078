"""Start any kind of run from a page or the API, through the same services the commands call
(run_metajudge, run_verdict, run_genrm, atomize_human). Configured endpoints only: a page
never creates one (superusers do, in the admin)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError

from annotate.access import REVIEWER, has_role, visible_datasets
from annotate.models import Dataset
from metajudge.generation import genrm
from metajudge.models import Critic, GenrmRun, JudgeEndpoint, MatchRun, PromptTemplate
from metajudge.runs import match_runs as runs
from metajudge.services.setup import template_default

KINDS = ("metajudge", "genrm", "verdict", "atomize")
SUBSETS = ("all", "domain", "stale", "failed")
TEMPLATE_KIND = {"metajudge": "metajudge", "verdict": "verdict", "genrm": "genrm"}
TEMPLATE_KIND["atomize"] = "atomizer"


def scoring_matchers() -> list[tuple[str, str]]:
    """The matchers a MetaJudge run may use (new ones added to the model appear here)."""
    skip = (MatchRun.Matcher.VERDICT, MatchRun.Matcher.IMPORT)
    return [(value, label) for value, label in MatchRun.Matcher.choices if value not in skip]


@dataclass
class Launch:
    """What to start. `critic` may be a new name for a GenRM run (it is created)."""

    kind: str
    dataset: Dataset
    critic: str = ""
    endpoint: JudgeEndpoint | None = None
    matcher: str = MatchRun.Matcher.OFFLINE
    template: PromptTemplate | None = None
    subset: str = "all"
    domain: str = ""
    chain_matcher: str = ""
    chain_endpoint: JudgeEndpoint | None = None

    def clean(self) -> None:
        errors = {}
        if self.kind not in KINDS:
            errors["kind"] = f"one of {', '.join(KINDS)}"
        if self.subset not in SUBSETS:
            errors["subset"] = f"one of {', '.join(SUBSETS)}"
        if self.subset == "domain" and not self.domain:
            errors["domain"] = "name the domain of this subset"
        if self.kind != "atomize" and not self.critic:
            errors["critic"] = "name the critic"
        if self.needs_endpoint and self.endpoint is None:
            errors["endpoint"] = "choose a configured endpoint"
        if self.kind == "metajudge" and self.matcher not in dict(scoring_matchers()):
            errors["matcher"] = f"one of {', '.join(dict(scoring_matchers()))}"
        if self.kind == "genrm" and self.chain_matcher not in ("", "offline", "llm"):
            errors["chain_matcher"] = "offline, llm or empty"
        if self.kind == "genrm" and self.chain_matcher == "llm" and not self.chain_endpoint:
            errors["chain_endpoint"] = "an llm chain needs a judge endpoint"
        kind = TEMPLATE_KIND.get(self.kind)
        if self.template is not None and self.template.kind != kind:
            errors["template"] = f"choose a {kind} template"
        if errors:
            raise ValidationError(errors)

    @property
    def needs_endpoint(self) -> bool:
        return self.kind in ("genrm", "verdict", "atomize") or self.matcher == "llm"

    @property
    def only(self) -> str:
        return self.subset if self.subset in ("stale", "failed") else ""

    @property
    def run_domain(self) -> str:
        return self.domain if self.subset == "domain" else ""


def can_launch(user, dataset: Dataset) -> bool:
    """Reviewers of the dataset (it is visible to them) and superusers everywhere."""
    return (
        has_role(user, REVIEWER, dataset) and visible_datasets(user).filter(pk=dataset.pk).exists()
    )


def run_launch(*, launch: Launch, user, enqueue: bool = True) -> MatchRun | GenrmRun:
    """Start (or re-open) the run that `launch` describes; the same services as the commands."""
    if not can_launch(user, launch.dataset):
        raise PermissionDenied("Only reviewers of this dataset start runs.")
    launch.clean()
    template = launch.template or template_default(TEMPLATE_KIND[launch.kind])
    common = {"dataset": launch.dataset, "user": user, "enqueue": enqueue}
    if launch.kind == "atomize":
        return genrm.atomize_run_start(
            endpoint=launch.endpoint,
            template=template,
            domain=launch.run_domain,
            **common,
            only="failed" if launch.only else "",
        )
    if launch.kind == "genrm":
        critic, _ = Critic.objects.get_or_create(
            name=launch.critic, defaults={"description": f"GenRM {launch.endpoint.model}"}
        )
        return genrm.genrm_run_start(
            critic=critic,
            endpoint=launch.endpoint,
            template=template,
            domain=launch.run_domain,
            chain_matcher=launch.chain_matcher,
            chain_endpoint=launch.chain_endpoint if launch.chain_matcher == "llm" else None,
            only="failed" if launch.only else "",
            **common,
        )
    critic = Critic.objects.filter(name=launch.critic).first()
    if critic is None:
        raise ValidationError({"critic": f"unknown critic {launch.critic!r}"})
    llm = launch.kind == "verdict" or launch.matcher == "llm"
    return runs.run_start(
        critic=critic,
        matcher="verdict" if launch.kind == "verdict" else launch.matcher,
        endpoint=launch.endpoint if llm else None,
        template=template if llm else None,
        concurrency=None if llm else 1,
        domain=launch.run_domain,
        only=launch.only,
        **common,
    )
