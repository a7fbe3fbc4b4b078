"""The event-loop side of an LLM chunk: overlapping calls, format retries, no database."""

from __future__ import annotations

import asyncio
import queue
import threading

from django.conf import settings

from metajudge.llm.client import JudgeClient
from metajudge.llm.config import endpoint_config
from metajudge.method import scoring


def answer_all(run, samples, done: queue.Queue, stop: threading.Event, grammar=True) -> None:
    """Thread target: answer every sample, putting (sample, Answer) on `done` as each ends.
    With `grammar`, answers that break the MetaJudge grammar are asked again."""
    asyncio.run(_answer_all(run, samples, done, stop, grammar))


async def _answer_all(run, samples, done: queue.Queue, stop: threading.Event, grammar) -> None:
    client = JudgeClient(endpoint_config(run), concurrency=run.concurrency)
    try:
        await asyncio.gather(*(_answer_one(client, s, done, stop, grammar) for s in samples))
    finally:
        await client.close()


async def _answer_one(client: JudgeClient, sample, done: queue.Queue, stop, grammar) -> None:
    """Ask, and ask again while the answer breaks the format (the reference's rule, or the
    template's strict grammar), up to the limit. The last answer is kept either way: the
    metric rules decide whether it scores, as the reference analysis does."""
    from metajudge.services.matching import Answer

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
