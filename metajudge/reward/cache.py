"""What the reward endpoint's scorer (reward) and its LLM matcher (reward_llm) share: the
endpoint a request names, and the shared result cache that LLM answers are added to."""

from __future__ import annotations

from django.db import transaction

from metajudge.models import CachedAnswer, JudgeEndpoint, MatchRun
from metajudge.services.setup import template_default


def endpoint_for_reward(name: str) -> tuple[JudgeEndpoint | None, MatchRun | None]:
    """The named endpoint and an unsaved run that carries the cache key's judge and template."""
    endpoint = JudgeEndpoint.objects.filter(name=name).first() if name else None
    if endpoint is None:
        return None, None
    return endpoint, MatchRun(judge_model=endpoint.model, template=template_default("metajudge"))


@transaction.atomic
def cached_answers_add(*, rows: list[tuple[str, str, int, int]]) -> None:
    CachedAnswer.objects.bulk_create(
        [CachedAnswer(key=k, text=t, prompt_tokens=p, completion_tokens=c) for k, t, p, c in rows],
        ignore_conflicts=True,
    )
