"""The semantic offline matcher: a small calibrated model on all-MiniLM-L6-v2 views of two atoms,
under the lexical matcher's gates.

Meaning, not words. Each atom goes once through all-MiniLM-L6-v2 (metajudge/method/encoder.py)
with its response names blanked ("Response A" and "Response 2" would otherwise dominate short
atoms). Two numbers describe a pair, neither of them word overlap:

- ``cosine``: the sentence embeddings' cosine (mean-pooled, as sentence-transformers);
- ``shortfall``: how much shorter the model atom is, max(0, log(human / model content word
  pieces)): a model atom that says much less than the human atom covers part of it at most.

The pair's value is the cosine less ``SHORTFALL`` times the shortfall, and ``LEVELS`` maps it to
the five judge scores (both chosen by ``bench/matcher_fit.py`` on the development set
tests/data/atom_pairs_dev.jsonl and the tuning set tests/data/atom_pairs.jsonl; the sealed
held-out set never). The shortfall's weight comes from a sign-constrained fit (similarity may only
raise the chance of a match, a shortfall only lower it): unconstrained, a fit on sets built of
low-overlap paraphrases and high-overlap traps learns to count token agreement *against* a
match, an artefact of how those sets were written (bench/matcher_fit.py prints both). No
lexical overlap is blended in: on paraphrases that share few words it is exactly what drags
recall down. The gates stay, because embeddings cannot see them: atoms about different
responses, of opposite polarity, or vague/verdict-only never match (``lexical.gate``, plus the
response names of the other languages the data uses, which the lexical side rule does not
read). Each model atom serves at most one human atom
(linear_sum_assignment), as a strict judge would.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from metajudge.method import assignment, lexical
from metajudge.method.scoring import Line, render_answer

VERSION = 2
FEATURES = ("cosine", "shortfall")
# The pair's value is gate x (cosine - SHORTFALL x shortfall). SHORTFALL is the ratio of the two
# weights of a sign-constrained logistic fit of "gold >= 0.75" on the development set and the
# tuning set together (bench/matcher_fit.py prints it: 2.011 and -2.051).
SHORTFALL = 1.02
# (lower bound on the value, judge score). The match line (0.75) is NOT the dev set's best
# threshold: on the pair sets a line near 0.1-0.2 scores best (0.734 cross-validated on dev,
# bench/matcher_fit.py), because their gate-open non-matches are few, but such a line pairs
# unrelated atoms in real 5 x 5 samples (the demo's surface critic gets "ready-to-send message"
# = "bullet points" at 1.0; the tuning set's unrelated kind 1/16 right). 0.35 is the highest line
# still on the dev plateau (0.70 for 0.30-0.35; cross-validated 0.692 with SHORTFALL refitted per
# fold); the 0.5 bound is chosen on the tuning set (a match there is a score >= 0.5); 1.0 and
# 0.25 sit a step either side.
LEVELS = ((0.45, 1.0), (0.35, 0.75), (0.30, 0.5), (0.20, 0.25))
# A shorter model atom whose cosine alone clears PARTIAL covers part of the human atom: 0.5.
# Chosen on the tuning set (accuracy 0.938 for 0.40-0.45, 0.924 at 0.5; the middle of the
# plateau's upper half keeps unrelated atoms out).
PARTIAL = 0.45

_NAMES = (
    r"response|assistant|answer|output|completion|antwort|respuesta|réponse|reponse|resposta"
    r"|risposta|antwoord"
)
_SIDE = re.compile(
    rf"\b(?:{_NAMES})\s*(?P<side>[12AB]|one|two)\b('s)?"
    # Chinese and Japanese names: no word boundary between "A" and the next ideograph.
    r"|(?:回答|応答|答案|回复|回應|レスポンス|解答)\s*(?P<cjk>[12AB])(?![A-Za-z0-9])",
    re.I,
)
_SPACES = re.compile(r"\s+")
# Below a quarter of the smallest step between scores: scores + _TIE_BREAK x cosine round back.
_TIE_BREAK = 0.01
_LEVEL_OF = {0.25: 0.25, 0.5: 0.5, 0.75: 0.75, 1.0: 1.0}


@lru_cache(maxsize=65536)
def masked(text: str) -> str:
    """The atom with its response names blanked: the side gate judges sides, not cosine."""
    return _SPACES.sub(" ", _SIDE.sub(" ", text)).strip()


@lru_cache(maxsize=65536)
def sides(text: str) -> frozenset[int]:
    """The responses an atom names (1 for "1"/"A"/"one", 2 for "2"/"B"/"two"), in any of the
    languages above."""
    found = set()
    for match in _SIDE.finditer(text):
        name = (match.group("side") or match.group("cjk") or "").lower()
        found.add(1 if name in ("1", "a", "one") else 2)
    return frozenset(found)


def gate(human: str, model: str) -> float:
    """lexical.gate, and 0 when each atom names one response and they differ (the lexical side
    rule reads English names only: "Antwort 2" and "回答A" reach it as no side at all)."""
    a, b = sides(human), sides(model)
    if len(a) == 1 and len(b) == 1 and a != b:
        return 0.0
    return lexical.gate(human, model)


def to_level(value: float) -> float:
    return next((score for bound, score in LEVELS if value >= bound), 0.0)


def score_of(cosine: float, shortfall: float) -> float:
    """The judge score of a gated pair: a full match (0.75, 1.0) needs the cosine less the
    shortfall to clear the bounds; a model atom that says less than the human atom but is about
    the same point (the cosine alone clears them) is a partial match, 0.5."""
    full = to_level(cosine - SHORTFALL * shortfall)
    return full if full >= 0.75 or cosine < PARTIAL else max(full, 0.5)


# Word pieces that carry no content: left out of the token alignment (not out of the encoder's
# input, which sees the whole atom).
STOP_WORDS = frozenset(
    "the a an of to in on and or is are was be it its that this with for as by at from "
    "response 's".split()
)


def _content_vocabulary(tokenizer) -> np.ndarray:
    """Boolean per token id: does the word piece carry content?"""
    vocab = tokenizer.get_vocab()
    keep = np.zeros(max(vocab.values()) + 1, dtype=bool)
    for piece, index in vocab.items():
        word = piece.removeprefix("##")
        special = piece.startswith("[") and piece.endswith("]")
        keep[index] = not special and any(c.isalnum() for c in word) and piece not in STOP_WORDS
    return keep


def _unit_rows(states: np.ndarray) -> np.ndarray:
    rows = states.astype(np.float32)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), np.float32(1e-12))


class SemanticMatcher:
    name = "semantic"

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.label = f"offline semantic matcher v{VERSION} (all-MiniLM-L6-v2)"
        self._content = _content_vocabulary(encoder.tokenizer)
        self._count = lru_cache(maxsize=65536)(self._count_one)

    def prepare(self, texts: Sequence[str]) -> None:
        self.encoder.encode([masked(t) for t in texts])

    def _count_one(self, key: str) -> int:
        ids = np.asarray(self.encoder.tokenizer.encode(key).ids, dtype=np.int64)
        return max(1, int(self._content[np.minimum(ids, len(self._content) - 1)].sum()))

    def content_counts(self, keys: Sequence[str]) -> np.ndarray:
        """Content word pieces per (masked) text: the tokenizer alone, no forward pass."""
        return np.asarray([self._count(k) for k in keys], dtype=np.float64)

    def content_tokens(self, keys: Sequence[str]) -> list[np.ndarray]:
        """Unit vectors of each (masked) text's content tokens (for bench/matcher_fit.py's
        token-alignment features, which the shipped model does not use)."""
        out = []
        for ids, states in self.encoder.encode_tokens(list(keys)):
            keep = self._content[np.minimum(ids, len(self._content) - 1)]
            if not keep.any():  # an atom of stop words only: align what there is
                keep = np.ones(len(ids), dtype=bool)
            out.append(_unit_rows(states[keep]))
        return out

    def feature_matrix(self, human: Sequence[str], model: Sequence[str]) -> np.ndarray:
        """(len(human), len(model), len(FEATURES)) raw features, gates not applied."""
        keys = [masked(t) for t in [*human, *model]]
        pooled = self.encoder.encode(keys)
        counts = self.content_counts(keys)
        n = len(human)
        out = np.zeros((n, len(model), len(FEATURES)), dtype=np.float64)
        out[:, :, 0] = pooled[:n] @ pooled[n:].T
        out[:, :, 1] = np.maximum(0.0, np.log(counts[:n, None] / counts[None, n:]))
        return out

    def score_matrix(self, human: Sequence[str], model: Sequence[str]) -> np.ndarray:
        """The judge score of every pair (score_of), 0 where a gate says they cannot match."""
        features = self.feature_matrix(human, model)
        scores = np.zeros(features.shape[:2], dtype=np.float64)
        for i, h in enumerate(human):
            for j, m in enumerate(model):
                if gate(h, m) > 0:
                    scores[i, j] = score_of(float(features[i, j, 0]), float(features[i, j, 1]))
        return scores + np.where(scores > 0, _TIE_BREAK * np.clip(features[:, :, 0], 0, 1), 0)

    def match_lines(self, human: Sequence[str], model: Sequence[str]) -> list[Line]:
        lines: list[Line] = [(i, 0, 0.0) for i in range(1, len(human) + 1)]
        if not human or not model:
            return lines
        # The assignment maximises the judge scores given; the cosine only breaks ties.
        matrix = self.score_matrix(human, model)
        for row, col in assignment.best_pairs(matrix):
            score = float(matrix[row, col])
            if score > 0:
                lines[row] = (int(row) + 1, int(col) + 1, _LEVEL_OF[round(score * 4) / 4])
        return lines

    def match(self, human: Sequence[str], model: Sequence[str]) -> str:
        return render_answer(self.match_lines(human, model))
