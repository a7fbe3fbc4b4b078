"""Reads for the runs page: a dataset's runs, what a run would cost before it starts, and a
running run's progress (throughput, ETA, tokens, errors grouped by cause)."""

from __future__ import annotations

import json
import re
from collections import Counter

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from annotate.models import Checklist, Dataset, Pair
from metajudge.launch.services import TEMPLATE_KIND, Launch
from metajudge.matching.chunks import cache_key
from metajudge.models import (
    CachedAnswer,
    Critic,
    GenrmItem,
    GenrmRun,
    JudgeEndpoint,
    MatchResult,
    MatchRun,
    PromptTemplate,
)
from metajudge.runs import match_runs as run_services
from metajudge.services.setup import template_default

S = MatchResult.Status
OPEN = ("queued", "running")


def run_ref(run) -> str:
    """One id for both run tables: "match-<pk>" (MetaJudge, verdict) or "genrm-<pk>"."""
    return f"{'genrm' if isinstance(run, GenrmRun) else 'match'}-{run.pk}"


def run_kind(run) -> str:
    if isinstance(run, GenrmRun):
        return "atomize" if run.kind == GenrmRun.Kind.ATOMIZE_HUMAN else "genrm"
    return "verdict" if run.matcher == MatchRun.Matcher.VERDICT else "metajudge"


def dataset_runs(dataset: Dataset, limit: int = 50) -> list:
    """Match and generation runs of a dataset, newest first."""
    match = MatchRun.objects.filter(dataset=dataset).select_related("critic", "endpoint")
    gen = GenrmRun.objects.filter(dataset=dataset).select_related("critic", "endpoint")
    both = list(match.order_by("-created_at")[:limit]) + list(gen.order_by("-created_at")[:limit])
    return sorted(both, key=lambda r: r.created_at, reverse=True)[:limit]


def launch_choices(dataset: Dataset) -> dict:
    return {
        "critics": list(Critic.objects.filter(judgments__pair__dataset=dataset).distinct()),
        "endpoints": list(JudgeEndpoint.objects.order_by("name")),
        "templates": list(PromptTemplate.objects.order_by("kind", "name", "-version")),
        "domains": list(
            Pair.objects.filter(dataset=dataset)
            .exclude(domain="")
            .values_list("domain", flat=True)
            .distinct()
            .order_by("domain")
        ),
    }


# --- cost before starting -----------------------------------------------------------------------


def launch_estimate(launch: Launch) -> dict:
    """Samples to ask, answers already in the cache and the calls to expect (at least)."""
    if launch.kind in ("genrm", "atomize"):
        return _generation_estimate(launch)
    return _match_estimate(launch)


def _template(launch: Launch) -> PromptTemplate:
    return launch.template or template_default(TEMPLATE_KIND[launch.kind])


def _match_estimate(launch: Launch) -> dict:
    critic = Critic.objects.filter(name=launch.critic).first()
    if critic is None:
        return {"samples": 0, "cached": 0, "calls": 0, "note": "this critic has no judgments"}
    llm = launch.kind == "verdict" or launch.matcher == "llm"
    probe = MatchRun(
        dataset=launch.dataset,
        critic=critic,
        matcher="verdict" if launch.kind == "verdict" else launch.matcher,
        domain=launch.run_domain,
        endpoint=launch.endpoint if llm else None,
        template=_template(launch) if llm else None,
    )
    probe.judge_model = run_services._judge_name(probe.matcher, probe.endpoint, None)
    existing = MatchRun.objects.filter(
        dataset=probe.dataset,
        critic=critic,
        matcher=probe.matcher,
        endpoint=probe.endpoint,
        template=probe.template,
        domain=probe.domain,
        judge_model=probe.judge_model,
    ).first()
    pair_ids = _match_todo(probe, existing, launch.only)
    cached = _cached(probe, pair_ids) if llm and probe.matcher != "verdict" else 0
    calls = (len(pair_ids) - cached) if llm else 0
    return {"samples": len(pair_ids), "cached": cached, "calls": calls, "note": ""}


def _match_todo(probe: MatchRun, existing: MatchRun | None, only: str) -> list[int]:
    redo_q = {"stale": Q(stale=True), "failed": Q(status=S.ERROR)}.get(
        only, Q(stale=True) | Q(status=S.ERROR) | Q(status__in=[S.PENDING, S.CLAIMED])
    )
    results = MatchResult.objects.filter(run=existing) if existing else MatchResult.objects.none()
    redo = set(results.filter(redo_q).values_list("pair_id", flat=True))
    if only:
        return sorted(redo)
    known = set(results.values_list("pair_id", flat=True))
    eligible = {p for p, _, _ in run_services._eligible(probe)}
    return sorted((eligible - known) | (redo & eligible))


def _cached(probe: MatchRun, pair_ids: list[int]) -> int:
    """How many of these samples the answer cache already holds (same key as the matcher)."""
    human = dict(
        Checklist.objects.filter(pair_id__in=pair_ids, slot=0).values_list(
            "pair_id", "current__atoms"
        )
    )
    model = dict(
        probe.critic.judgments.filter(pair_id__in=pair_ids).values_list("pair_id", "atoms")
    )
    keys = [
        cache_key(probe, _atoms(human.get(p)), _atoms(model.get(p))) for p in pair_ids if p in model
    ]
    return CachedAnswer.objects.filter(key__in=keys).count() if keys else 0


def _atoms(value) -> list[str]:
    return list(json.loads(value) if isinstance(value, str) else value or [])


def _generation_estimate(launch: Launch) -> dict:
    pairs = Pair.objects.filter(dataset=launch.dataset)
    if launch.run_domain:
        pairs = pairs.filter(domain=launch.run_domain)
    if launch.kind == "atomize":
        pairs = pairs.exclude(human_reasons=[])
    items = GenrmItem.objects.filter(
        run__dataset=launch.dataset,
        run__kind="atomize_human" if launch.kind == "atomize" else "genrm",
        run__endpoint=launch.endpoint,
        run__domain=launch.run_domain,
    )
    if launch.kind == "genrm":
        items = items.filter(run__critic__name=launch.critic)
    if launch.only:
        todo = items.filter(status=GenrmItem.Status.ERROR).values("pair").distinct().count()
    else:
        done = items.filter(status=GenrmItem.Status.DONE).values("pair")
        todo = pairs.exclude(pk__in=done).count()
    note = (
        "plus an atomizer call per answer without a reason list" if launch.kind == "genrm" else ""
    )
    return {"samples": todo, "cached": 0, "calls": todo, "note": note}


# --- progress ----------------------------------------------------------------------------------


def _cause(error: str) -> str:
    """Group errors by their cause: digits and quoted details vary, the cause does not."""
    text = re.sub(r"\d+", "N", error.strip().splitlines()[0] if error.strip() else "unknown")
    return re.sub(r"'[^']*'|\"[^\"]*\"", "…", text)[:160]


def run_report(run) -> dict:
    """Everything the run page shows; polled every 2 s while the run is open."""
    items = MatchResult.objects if isinstance(run, MatchRun) else GenrmItem.objects
    errors = (
        Counter(
            _cause(e)
            for e in items.filter(run=run, status="error").values_list("error", flat=True)[:5000]
        )
        if run.error_count
        else Counter()
    )
    open_ = run.state in OPEN
    end = timezone.now() if open_ else (run.finished_at or timezone.now())
    elapsed = (end - run.started_at).total_seconds() if run.started_at else 0.0
    per_s = (run.done_count / elapsed) if elapsed > 0 and run.done_count else 0.0
    left = run.total - run.done_count
    return {
        "run": run,
        "ref": run_ref(run),
        "kind": run_kind(run),
        "open": open_,
        "percent": round(100 * run.progress),
        "tokens": run.prompt_tokens + run.completion_tokens,
        "elapsed": round(elapsed, 1),
        "throughput": round(per_s, 2),
        "eta": round(left / per_s) if open_ and per_s > 0 else None,
        "errors": errors.most_common(10),
        "can_resume": run.state in ("aborted", "failed"),
        "chunk_size": settings.METAJUDGE_CHUNK_SIZE,
    }
