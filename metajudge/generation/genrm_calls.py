"""The event-loop side of a generation chunk: overlapping calls and format retries, no database.

A GenRM job is one judgment call (asked again while its verdict is missing or ambiguous), then,
when the answer lists no reasons (or the run says so), one atomizer call on its rationale.
An atomize job is the atomizer call alone."""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass, field

from django.conf import settings

from metajudge.llm.client import CallResult, JudgeClient
from metajudge.llm.config import endpoint_config
from metajudge.llm.feed import Feed
from metajudge.method import genrm_parsing as gp
from metajudge.method.prompts import render_atomizer


@dataclass
class Outcome:
    text: str | None = None
    label: int | None = None
    atoms: list[str] = field(default_factory=list)
    error: str = ""
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0

    def add(self, call: CallResult) -> None:
        self.attempts += call.attempts
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.latency_ms += call.latency_ms


@dataclass
class Job:
    pair_id: int
    prompt: str = ""
    rationale: str = ""  # atomize jobs: the text to split


def answer_all(run, feed: Feed, done: queue.Queue, stop: threading.Event) -> None:
    """Thread target: put (job, Outcome) on `done` as each job of `feed` ends."""
    asyncio.run(_answer_all(run, feed, done, stop))


async def _answer_all(run, feed: Feed, done: queue.Queue, stop: threading.Event) -> None:
    client = JudgeClient(endpoint_config(run), concurrency=run.concurrency)
    one = _genrm_one if run.kind == "genrm" else _atomize_one
    try:
        await feed.run_each(lambda job: _put(one(client, run, job, stop), job, done))
    finally:
        await client.close()


async def _put(coroutine, job: Job, done: queue.Queue) -> None:
    try:
        outcome = await coroutine
    except Exception as exc:  # a job must always come back, or the writer waits forever
        outcome = Outcome(error=f"internal error: {type(exc).__name__}: {exc}"[:500])
    done.put((job, outcome))


async def _ask(client: JudgeClient, prompt: str, out: Outcome, check, stop) -> str | None:
    """Call until `check(text)` returns no problem, at most 1 + format retries times."""
    for _ in range(settings.METAJUDGE_FORMAT_RETRIES + 1):
        if stop.is_set():
            out.error = "aborted before the call"
            return None
        call = await client.complete(prompt)
        out.add(call)
        if call.text is None:
            out.error = call.error
            return None
        problem = check(call.text)
        if problem is None:
            out.error = ""
            return call.text
        out.text, out.error = call.text, f"format error: {problem}"
    return None


async def _genrm_one(client: JudgeClient, run, job: Job, stop) -> Outcome:
    out = Outcome()
    think = run.atomize_think
    needs_list = run.atoms_from == "answer"

    def check(text: str) -> str | None:
        problem = gp.parse_verdict(text)[1] or None
        if problem is None and needs_list and not gp.reason_list(text, include_think=think):
            return "no reason list ('- ' lines)"
        return problem

    text = await _ask(client, job.prompt, out, check, stop)
    if text is None:
        return out
    out.text, out.label = text, gp.parse_verdict(text)[0]
    if run.atoms_from != "atomizer":
        out.atoms = gp.reason_list(text, include_think=think)
    if not out.atoms and run.atoms_from != "answer":
        rationale = gp.rationale_for_atomizer(text, include_think=think)
        out.atoms = await _atomize(client, run, rationale, out, stop)
    return out


async def _atomize(client: JudgeClient, run, rationale: str, out: Outcome, stop) -> list[str]:
    if not rationale.strip():
        return []
    prompt = render_atomizer(run.atomizer_template.text, rationale)
    probe = Outcome()
    text = await _ask(client, prompt, probe, lambda t: gp.parse_atomizer(t)[1] or None, stop)
    for name in ("attempts", "prompt_tokens", "completion_tokens", "latency_ms"):
        setattr(out, name, getattr(out, name) + getattr(probe, name))
    if text is None:
        out.error = f"atomizer: {probe.error}"
        return []
    return gp.parse_atomizer(text)[0]


async def _atomize_one(client: JudgeClient, run, job: Job, stop) -> Outcome:
    out = Outcome(text="")
    out.atoms = await _atomize(client, run, job.rationale, out, stop)
    return out
