"""metajudge's receivers of annotate's signals (connected in MetajudgeConfig.ready())."""

from __future__ import annotations

from metajudge.matching import staleness


def on_checklist_revised(sender, *, pair_id: int, **kwargs) -> None:
    # Through the module, so a test that replaces mark_pair_stale sees its replacement called.
    staleness.mark_pair_stale(pair_id)
