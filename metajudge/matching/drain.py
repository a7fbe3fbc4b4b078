"""The drain loop of a match run's LLM calls, shared by the MetaJudge grammar (matching) and
verdict mode (verdict): calls overlap on a loop thread, writes come back to this thread."""

from __future__ import annotations

from collections.abc import Iterable

from metajudge.models import MatchResult, MatchRun
from metajudge.runs import lifecycle


def drain_with(
    run: MatchRun,
    samples: list,
    answer_all,
    write,
    grammar: bool = True,
    more: Iterable[list] = (),
) -> None:
    """Ask `samples`, then each list `more` yields (it runs on this thread while the first
    calls are in flight), renewing the claims of every sample handed over so far."""
    tokens = {s.token for s in samples}

    def fed():
        for batch in more:
            tokens.update(s.token for s in batch)
            yield batch

    lifecycle.drain(
        lambda feed, done, stop: answer_all(run, feed, done, stop, grammar),
        samples,
        lambda batch: write(run, batch),
        lambda: aborted(run),
        lambda: lifecycle.renew(MatchResult.objects.filter(run=run), tokens),
        fed(),
    )


def aborted(run: MatchRun) -> bool:
    return MatchRun.objects.filter(pk=run.pk, state=MatchRun.State.ABORTED).exists()
