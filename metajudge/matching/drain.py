"""The drain loop of a match run's LLM calls, shared by the MetaJudge grammar (matching) and
verdict mode (verdict): calls overlap on a loop thread, writes come back to this thread."""

from __future__ import annotations

from metajudge.models import MatchResult, MatchRun
from metajudge.runs import lifecycle


def drain_with(run: MatchRun, samples: list, answer_all, write, grammar: bool = True) -> None:
    tokens = [s.token for s in samples]
    lifecycle.drain(
        lambda jobs, done, stop: answer_all(run, jobs, done, stop, grammar),
        samples,
        lambda batch: write(run, batch),
        lambda: aborted(run),
        lambda: lifecycle.renew(MatchResult.objects.filter(run=run), tokens),
    )


def aborted(run: MatchRun) -> bool:
    return MatchRun.objects.filter(pk=run.pk, state=MatchRun.State.ABORTED).exists()
