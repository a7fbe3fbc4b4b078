"""What one atom says, for the lexical matcher's gates and similarity: which response it is
about (sides), whether it praises or faults it (polarity), whether it is vague or verdict-only,
and its weighted content tokens. `analyse` turns a text into an `Atom`."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from metajudge.method.lexical_lexicon import (
    _CLAUSE_BREAK,
    _COMPILED_PHRASES,
    _FLIP_NEXT,
    _GENERIC,
    _INTENSIFY_BAD,
    _MODIFIERS,
    _NEGATORS,
    _REQUEST_WORDS,
    _STOPWORDS,
    _SYNONYMS,
    _TOKEN,
    _VAGUE_CONCEPTS,
    _lookup,
    _stem,
)

# --- sides ------------------------------------------------------------------------------------

_SIDE_WORDS = {"1": 1, "2": 2, "a": 1, "b": 2, "one": 1, "two": 2}
_SIDE_WORDS |= {"first": 1, "former": 1, "second": 2, "latter": 2}
_NOUNS = r"(?:response|assistant|output|completion|candidate|model)"
_SIDE_RULES = (
    re.compile(rf"@?\b{_NOUNS}\s*[-#]?\s*([12])\b", re.I),
    # Letters only in capitals, so "answer a question" never reads as side A.
    re.compile(rf"@?\b(?i:{_NOUNS}|answer)\s*[-#]?\s*([AB])\b"),
    re.compile(r"\b(?:response|assistant)\s+(one|two)\b", re.I),
    re.compile(r"\b(first|former|second|latter)\s+(?:response|answer|output|reply|one)\b", re.I),
    re.compile(r"\bthe\s+(former|latter)\b", re.I),
)
# "R1"/"R2" also name resistors and rubric items; accept them only away from such context.
_BARE_R = re.compile(r"@?\bR([12])\b")
_CIRCUIT = re.compile(r"resistor|resistance|circuit|ohm|Ω|voltage|rubric", re.I)
_OBJECT_MARKERS = frozenset({"than", "unlike", "to", "with", "versus", "vs", "over", "against"})
_PLACEHOLDER = {1: " sideone ", 2: " sidetwo "}
_PLACEHOLDER_SIDE = {"sideone": 1, "sidetwo": 2}


def _side_mentions(text: str) -> list[tuple[int, int, int]]:
    """(start, end, side) of every non-overlapping side mention, in reading order."""
    rules = list(_SIDE_RULES)
    if not _CIRCUIT.search(text):
        rules.append(_BARE_R)
    found = sorted(
        (m.start(), -m.end(), _SIDE_WORDS[m.group(1).lower()])
        for rule in rules
        for m in rule.finditer(text)
    )
    mentions: list[tuple[int, int, int]] = []
    for start, neg_end, side in found:
        if not mentions or start >= mentions[-1][1]:
            mentions.append((start, -neg_end, side))
    return mentions


def _subject_side(text: str, mentions: list[tuple[int, int, int]]) -> int:
    """The side a comparison is about: the first one not introduced by "than", "unlike", ..."""
    for start, _, side in mentions:
        before = re.findall(r"[a-z]+", text[:start].lower())
        if not before or before[-1] not in _OBJECT_MARKERS:
            return side
    return mentions[0][2]


def _mask_sides(text: str, mentions: list[tuple[int, int, int]]) -> str:
    pieces, cursor = [], 0
    for start, end, side in mentions:
        pieces += [text[cursor:start], _PLACEHOLDER[side]]
        cursor = end
    return "".join(pieces + [text[cursor:]])


# --- atom analysis ----------------------------------------------------------------------------

_JUDGE_DIRECTED = re.compile(
    r"^\W*(?:please\s+)?(?:ignore|disregard|forget|override)\b"
    r"|\b(?:previous|above|system|your)\s+(?:instructions?|prompt|rules)\b"
    r"|\b(?:score|rate|grade|mark)\s+(?:every|all|each|everything|them|these)\b"
    r"[^.]{0,40}?\b(?:1(?:\.0+)?|full|max\w*|perfect)\b",
    re.I,
)
_MIS_EXCEPTIONS = frozenset({"mission", "missile", "mistress", "miscellaneous", "mischief"})


@dataclass(frozen=True)
class Atom:
    """What the matcher knows about one atom."""

    side: int | None
    comparative: bool
    polarity: float  # +1 / -1 when the atom judges explicitly, +0.5 for plain statements
    tokens: dict[str, float]  # normalised token -> weight
    grams: Counter
    vague: bool
    # normalised token -> the signs it is asserted with (+1 present/good, -1 absent/bad)
    signs: dict[str, frozenset[int]]


@dataclass(frozen=True)
class _Word:
    norm: str
    weight: float
    sign: int
    negator: bool


@lru_cache(maxsize=16384)
def _classify(word: str) -> _Word:
    stem = _stem(word)
    negator = word in _NEGATORS or stem in _NEGATORS
    entry = _lookup(word)
    if entry is not None:
        weight = 0.0 if entry.concept == "@verdict" else (0.6 if entry.sign else 0.8)
        weight = 0.3 if entry.concept == "@answer" else weight
        return _Word(entry.concept, weight, 0 if negator else entry.sign, negator)
    if negator:
        return _Word("", 0.0, 0, True)
    if word.startswith("mis") and len(word) > 6 and word not in _MIS_EXCEPTIONS:
        # "misidentifies", "misreads": the act done wrongly.
        return _Word(_stem(word[3:]), 1.0, -1, False)
    if not word.isascii() or not word.isalpha():
        return _Word(word, 1.5, 0, False)
    weight = 0.3 if stem in _GENERIC or word in _GENERIC else (0.5 if len(word) <= 2 else 1.0)
    return _Word(stem, weight, 0, False)


def _clause_polarity(words: list[str]) -> int:
    """Sum of judgement signs in one clause; negators flip the rest of their clause."""
    if words and words[0] in ("reported", "conditional"):
        return 0
    if words and words[0] == "concession":
        # "... although the user asked for X" reports an ignored request.
        penalty = 1 if _REQUEST_WORDS.intersection(words) else 0
        return _clause_polarity(words[1:]) - penalty
    total, flipped, unconsumed, modifier = 0, False, False, ""
    for word in words:
        if word in _INTENSIFY_BAD or word in _FLIP_NEXT:
            modifier = word
            continue
        info = _classify(word)
        # "too long": an intensifier turns even a neutral concept word into a flaw.
        too_much = modifier in _INTENSIFY_BAD and info.norm.startswith("@")
        if info.sign or too_much:
            sign = -1 if too_much else info.sign
            sign = -sign if modifier in _FLIP_NEXT else sign
            total += -sign if flipped else sign
            unconsumed, modifier = False, ""
        if info.negator:
            flipped, unconsumed = not flipped, True
    # A bare "never closes the file" or "omits the side effects" is still a flaw.
    return total - 1 if unconsumed and flipped else total


def _clauses(masked: str) -> list[list[str]]:
    text = masked.lower()
    for pattern, replacement in _COMPILED_PHRASES:
        text = pattern.sub(replacement, text)
    return [
        [_SYNONYMS.get(word, _SYNONYMS.get(_stem(word), word)) for word in _TOKEN.findall(part)]
        for part in _CLAUSE_BREAK.split(text)
    ]


def _polarity(clauses: list[list[str]], subject: int | None) -> float:
    total = 0
    for words in clauses:
        named = [_PLACEHOLDER_SIDE[w] for w in words if w in _PLACEHOLDER_SIDE]
        clause_total = _clause_polarity([w for w in words if w not in _PLACEHOLDER_SIDE])
        # In "A is clearer than B, and B is also wrong", B's clause speaks against B.
        if subject is not None and named and named[0] != subject:
            clause_total = -clause_total
        total += clause_total
    return 1.0 if total > 0 else -1.0 if total < 0 else 0.5


def _content(clauses: list[list[str]]) -> dict[str, float]:
    tokens: dict[str, float] = {}
    for words in clauses:
        for word in words:
            if word in _STOPWORDS or word in _PLACEHOLDER_SIDE or word in _MODIFIERS:
                continue
            info = _classify(word)
            if info.norm and info.weight > 0:
                tokens[info.norm] = max(tokens.get(info.norm, 0.0), info.weight)
    return tokens


def _token_value(info: _Word, word: str, presence: int, modifier: str) -> int:
    """+1 when the atom asserts the token (or praises its concept), -1 if it denies or faults it."""
    entry = _lookup(word) if info.negator else None
    # _classify zeroes the sign of privatives ("omit"); here their own flaw counts.
    sign = entry.sign if entry is not None else info.sign
    if modifier in _INTENSIFY_BAD and info.norm.startswith("@"):
        sign = -1
    sign = -sign if modifier in _FLIP_NEXT else sign
    return presence * (sign or 1)


def _signed_tokens(clauses: list[list[str]]) -> dict[str, frozenset[int]]:
    """Per token, the signs it carries. A bare negator denies the next word it reaches ("does
    not handle the empty list" denies the handling, not the list). Privative verbs ("omits",
    "lacks") carry the flaw themselves and deny nothing: "a drop of soap", "X is skipped"."""
    signs: dict[str, set[int]] = {}
    for words in clauses:
        presence, modifier = 1, ""
        for word in words:
            if word in _MODIFIERS:
                modifier = word
                continue
            if word in _STOPWORDS or word in _PLACEHOLDER_SIDE:
                continue
            info = _classify(word)
            if info.norm and (info.weight > 0 or info.negator):
                value = _token_value(info, word, presence, modifier)
                # A concept keeps the sign of its first word, usually the predicate:
                # in "does not cite any sources" the sources do not rescue the citing.
                if not (info.norm.startswith("@") and info.norm in signs):
                    signs.setdefault(info.norm, set()).add(value)
                presence, modifier = 1, ""
            elif info.negator:
                presence = -presence
    return {norm: frozenset(values) for norm, values in signs.items()}


def _trigrams(tokens: dict[str, float]) -> Counter:
    grams: Counter = Counter()
    for norm, weight in tokens.items():
        # Only real content words: shared "@correct" or "give" says nothing about the topic.
        if norm.startswith("@") or weight < 1.0:
            continue
        padded = f" {norm} "
        grams.update(padded[k : k + 3] for k in range(len(padded) - 2))
    return grams


def _is_vague(text: str, tokens: dict[str, float]) -> bool:
    """Verdict-only or judge-directed text: nothing a rationale could be matched on."""
    if _JUDGE_DIRECTED.search(text):
        return True
    return not any(w > 0.3 and norm not in _VAGUE_CONCEPTS for norm, w in tokens.items())


@lru_cache(maxsize=4096)
def analyse(text: str) -> Atom:
    mentions = _side_mentions(text)
    sides = {side for _, _, side in mentions}
    comparative = len(sides) == 2 and not re.search(r"\b(?:both|neither)\b", text, re.I)
    if comparative:
        side: int | None = _subject_side(text, mentions)
    else:
        side = next(iter(sides)) if len(sides) == 1 else None
    clauses = _clauses(_mask_sides(text, mentions))
    polarity = _polarity(clauses, side if comparative else None)
    tokens = _content(clauses)
    vague = _is_vague(text, tokens)
    return Atom(
        side, comparative, polarity, tokens, _trigrams(tokens), vague, _signed_tokens(clauses)
    )
