"""The event-loop side of a chunk of judge calls: calls overlap on one loop, an answer that
breaks the format is asked again (the reference's rule, or a template's strict grammar), and
each sample's final answer goes on a queue as it ends. No database here: the caller writes."""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass, field

from django.conf import settings

from metajudge.llm.client import JudgeClient
from metajudge.llm.config import endpoint_config
from metajudge.llm.feed import Feed
from metajudge.method import scoring


@dataclass
class Answer:
    """A sample's final answer and what it cost."""

    text: str | None
    error: str = ""
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    retries: int = 0  # re-asks after answers that broke the format
    reasons: list[str] = field(default_factory=list)  # each such answer's problem


def answer_all(run, feed: Feed, done: queue.Queue, stop: threading.Event, grammar=True) -> None:
    """Thread target: answer every sample of `feed` (each has `prompt`, `human` and `strict`),
    putting (sample, Answer) on `done` as each ends. With `grammar`, answers that break the
    MetaJudge grammar are asked again."""
    asyncio.run(_answer_all(run, feed, done, stop, grammar))


async def _answer_all(run, feed: Feed, done: queue.Queue, stop: threading.Event, grammar) -> None:
    client = JudgeClient(endpoint_config(run), concurrency=run.concurrency)
    try:
        await feed.run_each(lambda sample: _answer_one(client, sample, done, stop, grammar))
    finally:
        await client.close()


async def _answer_one(client: JudgeClient, sample, done: queue.Queue, stop, grammar) -> None:
    """Ask, and ask again while the answer breaks the format, up to the limit. The last answer
    is kept either way: the metric rules decide whether it scores, as the reference analysis
    does."""
    answer = Answer(text=None)
    strict = bool(getattr(sample, "strict", False))
    for attempt in range(settings.METAJUDGE_FORMAT_RETRIES + 1):
        if stop.is_set():
            answer.error = answer.error or "aborted before the call"
            break
        if attempt:
            answer.retries += 1
        call = await client.complete(sample.prompt)
        answer.attempts += call.attempts
        answer.prompt_tokens += call.prompt_tokens
        answer.completion_tokens += call.completion_tokens
        answer.text, answer.error = call.text, call.error
        if call.text is None or not grammar:
            break
        problem = scoring.reask_problem(call.text, len(sample.human), strict=strict)
        if problem is None:
            break
        answer.reasons.append(problem)
    done.put((sample, answer))
