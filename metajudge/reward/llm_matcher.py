"""The LLM matcher for the reward endpoint: the shared result cache first, then bounded calls.

Latency stays bounded: a repeated question is a cache hit (no call), retries are fewer than in
a batch run, and the whole request has a deadline after which unanswered items are errors."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from django.conf import settings
from django.core.cache import cache

from metajudge.llm.client import JudgeClient
from metajudge.llm.config import endpoint_config
from metajudge.matching.chunks import cache_key
from metajudge.method import scoring
from metajudge.method.prompts import render_metajudge
from metajudge.models import CachedAnswer
from metajudge.reward.cache import cached_answers_add, endpoint_for_reward


# Read on each call (tests and deployments may change them): seconds per request, tries per call.
def _deadline() -> float:
    return float(getattr(settings, "REWARD_LLM_DEADLINE", 60.0))


def _max_attempts() -> int:
    return int(getattr(settings, "REWARD_LLM_MAX_ATTEMPTS", 3))


NO_ENDPOINT = "the llm matcher needs an endpoint name"


def answer_with_llm(items: list, *, user) -> None:
    """Fill `answer` (and `cached`) on each item, or its `error`. Fresh questions count
    against the user's quota of judge calls; cached answers are free."""
    by_endpoint: dict[str, list] = {}
    for s in items:
        by_endpoint.setdefault(s.item.endpoint, []).append(s)
    for name, group in by_endpoint.items():
        endpoint, run = endpoint_for_reward(name)
        if endpoint is None:
            for s in group:
                s.error = f"unknown judge endpoint: {name!r}" if name else NO_ENDPOINT
            continue
        _answer_group(run, endpoint, group, user)


def _quota_key(user) -> str:
    return f"reward-llm-quota:{user.pk}"


def _within_quota(user, misses: list) -> list:
    """As many of `misses` as the user's quota still allows; the rest get an error."""
    quota, window = settings.REWARD_LLM_QUOTA, settings.REWARD_LLM_QUOTA_WINDOW
    key = _quota_key(user)
    cache.add(key, 0, timeout=window)  # the window starts with the first fresh question
    try:
        used = cache.incr(key, len(misses))
    except ValueError:  # expired between add and incr
        used = len(misses)
        cache.set(key, used, timeout=window)
    over = min(len(misses), max(0, used - quota))
    if over:
        cache.decr(key, over)  # refused questions cost nothing
    for s in misses[len(misses) - over :]:
        s.error = QUOTA_EXCEEDED
    return misses[: len(misses) - over]


QUOTA_EXCEEDED = "judge call quota exceeded (REWARD_LLM_QUOTA per REWARD_LLM_QUOTA_WINDOW)"


def _answer_group(run, endpoint, group: list, user) -> None:
    keys = {id(s): cache_key(run, s.human, s.atoms) for s in group}
    hits = dict(CachedAnswer.objects.filter(key__in=set(keys.values())).values_list("key", "text"))
    misses = []
    for s in group:
        if keys[id(s)] in hits:
            s.answer, s.cached = hits[keys[id(s)]], True
        else:
            misses.append(s)
    misses = _within_quota(user, misses) if misses else []
    if not misses:
        return
    run.endpoint = endpoint
    prompts = [render_metajudge(run.template.text, s.human, s.atoms) for s in misses]
    answers = asyncio.run(_ask_all(run, prompts, [len(s.human) for s in misses]))
    fresh = []
    for s, (text, error, usage) in zip(misses, answers, strict=True):
        s.answer, s.error = text, error
        if text is not None and not error and scoring.reask_reason(text) is None:
            fresh.append((keys[id(s)], text, *usage))
    if fresh:
        cached_answers_add(rows=fresh)


async def _ask_all(run, prompts: list[str], sizes: list[int]) -> list[tuple]:
    config = replace(endpoint_config(run), max_attempts=_max_attempts())
    client = JudgeClient(config)
    tasks = [asyncio.ensure_future(_ask(client, p, n)) for p, n in zip(prompts, sizes, strict=True)]
    try:
        await asyncio.wait(tasks, timeout=_deadline())
        results = [_outcome(task) for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()
    return results


def _outcome(task: asyncio.Task) -> tuple:
    if not task.done():
        return None, "matcher: deadline passed", (0, 0)
    if task.exception() is not None:
        return None, f"matcher: {type(task.exception()).__name__}", (0, 0)
    return task.result()


async def _ask(client: JudgeClient, prompt: str, n_human: int) -> tuple:
    """As in a live run: ask again on the reference's format faults, keep the last answer."""
    usage = [0, 0]
    for _ in range(settings.METAJUDGE_FORMAT_RETRIES + 1):
        call = await client.complete(prompt)
        usage[0] += call.prompt_tokens
        usage[1] += call.completion_tokens
        if call.text is None:
            return None, f"matcher: {call.error}", tuple(usage)
        if scoring.reask_reason(call.text) is None:
            break
    return call.text, "", tuple(usage)
