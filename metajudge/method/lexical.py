"""Offline approximate MetaJudge: matches human atoms to model atoms without any LLM.

It exists so that a fresh install can show the whole audit flow, and so tests have a deterministic
judge. It answers in the judge grammar, so the same parser and metrics score it.

Similarity is a weighted, lightly stemmed token alignment (with a small concept lexicon for the
vocabulary that evaluation rationales share) blended with character trigram cosine. Three gates
force "no match" whatever the word overlap, because overlap is exactly what they defeat:
different sides, opposite polarity, and vague or verdict-only atoms (MetaJudge never credits those).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from metajudge.method import assignment
from metajudge.method.lexical_atoms import Atom, analyse
from metajudge.method.scoring import render_answer

# The vocabulary lives in lexical_lexicon.py, the reading of one atom (side, polarity, vagueness,
# content tokens) in lexical_atoms.py; this module scores pairs of atoms and matches them.
__all__ = [
    "LEVELS",
    "Atom",
    "analyse",
    "atom_similarity",
    "gate",
    "match_answer",
    "match_atoms",
    "predicts_match",
    "similarity",
    "to_level",
]


# --- similarity -------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _token_overlap(a: str, b: str) -> float:
    """Partial credit for stems the light stemmer did not unify ("convert"/"conversion")."""
    if a == b:
        return 1.0
    if a.startswith("@") or b.startswith("@") or min(len(a), len(b)) < 4:
        return 0.0
    grams_a = {a[k : k + 3] for k in range(len(a) - 2)}
    grams_b = {b[k : k + 3] for k in range(len(b) - 2)}
    jaccard = len(grams_a & grams_b) / len(grams_a | grams_b)
    return 0.8 * jaccard if jaccard >= 0.5 else 0.0


def _coverage(source: dict[str, float], target: dict[str, float]) -> float:
    total = sum(source.values())
    if total == 0:
        return 0.0
    got = 0.0
    for norm, weight in source.items():
        if norm in target:
            got += weight
        else:
            got += weight * max((_token_overlap(norm, other) for other in target), default=0.0)
    return got / total


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(count * b[gram] for gram, count in a.items())
    norm = math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _content_similarity(a: Atom, b: Atom) -> float:
    ra, rb = _coverage(a.tokens, b.tokens), _coverage(b.tokens, a.tokens)
    if ra + rb == 0:
        return 0.0
    f1 = 2 * ra * rb / (ra + rb)
    # The better one-way coverage keeps partial matches (one atom inside the other) alive.
    lexical = 0.5 * f1 + 0.5 * max(ra, rb)
    return 0.75 * lexical + 0.25 * _cosine(a.grams, b.grams)


def _token_conflict(a: Atom, b: Atom) -> bool:
    """The same point asserted by one atom and denied (or faulted) by the other."""
    if a.polarity == b.polarity and abs(a.polarity) == 1:
        # Both fault (or both praise) the response: "translates X wrongly" is "mistranslates X".
        return False
    return any(not a.signs[norm] & b.signs[norm] for norm in a.signs.keys() & b.signs.keys())


def _gate(a: Atom, b: Atom) -> float:
    """Multiplier in [0, 1] from the side and polarity rules."""
    pa, pb = a.polarity, b.polarity
    if a.side is not None and b.side is not None:
        if a.comparative or b.comparative:
            # Compare in Response 1's frame: "2 is worse than 1" says "1 is better than 2".
            pa, pb = (pa if a.side == 1 else -pa), (pb if b.side == 1 else -pb)
        elif a.side != b.side:
            return 0.0
    if a.comparative or b.comparative:
        return 0.0 if pa * pb < 0 and abs(pa) == 1 and abs(pb) == 1 else 1.0
    if _token_conflict(a, b):
        return 0.0
    return STRONG_CONFLICT if pa * pb < 0 and abs(pa) == 1 and abs(pb) == 1 else 1.0


STRONG_CONFLICT = 0.0


def atom_similarity(a: Atom, b: Atom) -> float:
    if a.vague or b.vague:
        return 0.0
    gate = _gate(a, b)
    return gate * _content_similarity(a, b) if gate else 0.0


def gate(a: str, b: str) -> float:
    """The side, polarity and vague gates alone (1: may match, 0: never), for other matchers."""
    atom_a, atom_b = analyse(a), analyse(b)
    if atom_a.vague or atom_b.vague:
        return 0.0
    return _gate(atom_a, atom_b)


def similarity(a: str, b: str) -> float:
    """Similarity in [0, 1] of two rationale atoms; 0 whenever a gate says they differ."""
    return atom_similarity(analyse(a), analyse(b))


# --- matching ---------------------------------------------------------------------------------

# (lower bound, judge score): the five MetaJudge levels. Lexical similarity understates meaning:
# close paraphrases share only about half their content words, and almost no labelled non-match
# scores above 0.45, so the top levels start low. 0.4 stays the "match" line (score >= 0.5).
LEVELS = ((0.55, 1.0), (0.47, 0.75), (0.4, 0.5), (0.3, 0.25))


def to_level(value: float) -> float:
    return next((score for bound, score in LEVELS if value >= bound), 0.0)


def match_atoms(human: Sequence[str], model: Sequence[str]) -> list[tuple[int, int, float]]:
    """One (i, j, score) per human atom; each model atom serves at most one human atom."""
    lines = [(i, 0, 0.0) for i in range(1, len(human) + 1)]
    if not human or not model:
        return lines
    model_atoms = [analyse(text) for text in model]
    matrix = np.array([[atom_similarity(analyse(h), m) for m in model_atoms] for h in human])
    for row, col in assignment.best_pairs(matrix):
        score = to_level(float(matrix[row, col]))
        if score > 0:
            lines[row] = (int(row) + 1, int(col) + 1, score)
    return lines


def predicts_match(human: str, model: str) -> bool:
    """The benchmark's notion of a match: the judge would give at least 0.5."""
    return match_atoms([human], [model])[0][2] >= 0.5


def match_answer(human: Sequence[str], model: Sequence[str]) -> str:
    """The offline verdict in the judge's own grammar, for the shared parser and metrics."""
    return render_answer(match_atoms(human, model))
