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
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import linear_sum_assignment

from metajudge.method.scoring import render_answer

# --- lexicon ----------------------------------------------------------------------------------

# concept: (positive words, negative words, neutral words). Antonyms share a concept so that
# "concise" and "wordy" talk about the same thing; the sign then decides agreement.
_GROUPS: dict[str, tuple[str, str, str]] = {
    "correct": (
        "correct right accurate accuracy valid proper properly faithful exact",
        "wrong incorrect inaccurate inaccuracy invalid erroneous error mistake bug buggy flaw "
        "flawed faulty false fault wrongly misstate",
        "",
    ),
    # Presence verbs are neutral: "contains a bug" is no praise. Completeness is coverage too.
    "cover": (
        "address handle consider tackle complete thorough comprehensive full",
        "missing miss lack omit omission forget neglect overlook skip drop sidestep dodge evade "
        "absent exclude incomplete partial truncated",
        "include contain mention cover discuss",
    ),
    "keep": ("keep maintain preserve retain", "distort garble", ""),
    "follow": (
        "follow adhere respect obey comply honor honour satisfy fulfil fulfill",
        "ignore violate disregard break exceed deviate disobey contradict",
        "",
    ),
    "clarity": (
        "clear understandable readable lucid coherent structured organized organised easy "
        "intuitive",
        "unclear confusing confuse convoluted ambiguous messy disorganized disorganised hard "
        "difficult jargon cluttered",
        "",
    ),
    "specific": (
        "specific concrete actionable detailed tailored personalized personalised",
        "vague generic boilerplate bland",
        "",
    ),
    "length": (
        "concise brief succinct short focused",
        "verbose wordy lengthy rambling padded bloated redundant repetitive repeat repetition "
        "unnecessary superfluous extraneous",
        "long length",
    ),
    "efficiency": (
        "efficient fast quick optimized optimised performant scalable",
        "inefficient slow sluggish wasteful",
        "",
    ),
    "fluency": (
        "natural fluent idiomatic native smooth",
        "unnatural awkward stilted literal clunky robotic",
        "",
    ),
    "tone": (
        "polite respectful friendly warm courteous professional kind empathetic",
        "rude impolite dismissive condescending cold harsh unprofessional curt",
        "tone",
    ),
    "consistent": ("consistent steady uniform", "inconsistent", ""),
    "safety": (
        "safe harmless",
        "unsafe harmful dangerous risky toxic poisonous hazard hazardous",
        "",
    ),
    "honest": ("honest truthful", "dishonest deceptive untruthful lie lying deceit", ""),
    "exist": (
        "real exist existing",
        "nonexistent fake invented hallucinate hallucination fabricate fabricated imaginary forge",
        "",
    ),
    "works": (
        "working runnable functional run robust reliable graceful",
        "broken crash fragile",
        "",
    ),
    "explain": (
        "",
        "",
        "explain explanation describe description clarify elaborate justify reasoning",
    ),
    "form": ("", "", "form format pattern scheme layout template"),
    "example": ("", "", "example sample demo illustration"),
    "function": ("", "", "function method"),
    "code": ("", "", "code snippet script program implementation"),
    "translate": ("", "mistranslate mistranslation", "translate translation"),
    "summary": ("", "", "summary summarise summarize"),
    "answer": ("", "", "answer reply respond"),
    "drug": ("", "", "drug medication medicine"),
    "date": ("", "", "date year deadline"),
    "limit": ("", "", "limit cap maximum allowed allow constraint restriction"),
    "cite": ("", "", "cite citation source reference"),
    "size": ("", "", "large largest big biggest"),
    "formal": ("", "", "formal formality register"),
    "comment": ("", "", "comment annotation docstring document documentation"),
    "test": ("", "", "test"),
    # Verdict vocabulary: it carries a sign but no content, so atoms made only of it are vague.
    "verdict": (
        "better best good great superior strong excellent helpful useful relevant preferable "
        "prefer preferred win",
        "worse worst bad poor inferior weak unhelpful useless irrelevant",
        "overall job quality choice",
    ),
}

# Plain synonyms of rationale vocabulary, folded onto one word before anything else looks at them.
_SYNONYM_GROUPS = (
    "recommend suggest suggests suggested suggesting advise encourage urge propose tell tells",
    "combine mix mixes mixed mixing blend",
    "produce create generate release yield",
    "exceed surpass overshoot",
    "replace swap substitute switch",
    "warn caution alert",
    "mention note notes noted noting remark",
    "first opening initial",
    "whole entire",
    "casual relaxed informal colloquial conversational",
    "remove delete strip erase",
    "proof evidence",
    "cause causes causing caused",
    "context situation setting circumstance",
    "hide mask conceal suppress",
    "fix solution workaround remedy",
    "meaning sense",
    "phrase expression wording",
    "modify mutate alter",
)
_NUMBER_WORDS = "two three four five six seven eight nine ten eleven twelve".split()


def _build_synonyms() -> dict[str, str]:
    table = {word: str(value) for value, word in enumerate(_NUMBER_WORDS, start=2)}
    for group in _SYNONYM_GROUPS:
        words = group.split()
        for word in words:
            table[word] = words[0]
            # "note" stems to "not": a stem key must never capture a negator, a stopword or
            # a lexicon word.
            if _stem(word) not in _NEGATORS | _STOPWORDS | _LEXICON.keys():
                table.setdefault(_stem(word), words[0])
    return table


# Privative words negate what follows in their clause; alone they still mark a flaw.
_NEGATORS = frozenset(
    "not no never nor neither without instead fail miss missing lack omit forget neglect "
    "overlook skip drop absent avoid".split()
)
_REQUEST_WORDS = frozenset(
    "user prompt ask asked request requested instruction instructions wanted required".split()
)
_INTENSIFY_BAD = frozenset({"too", "overly", "excessively"})
_FLIP_NEXT = frozenset({"less", "fewer"})
_MODIFIERS = _INTENSIFY_BAD | _FLIP_NEXT
_GENERIC = frozenset(
    "use make give provide get show state say write produce user prompt request ask part "
    "thing way text output content result point approach seem sound come across treat apply "
    "employ utilize utilise call offer present supply".split()
)
_STOPWORDS = frozenset(
    "a an the of to in on for as is are was were be been being it its this that these those "
    "which who whom what with by at from than and or but if then so also very really quite just "
    "only both either there their they them he she his her i we you our your my me do does did "
    "doing done has have had having can could will would should may might must shall into onto "
    "about over under again once here when where why how such own other another most some more "
    "much far slightly response responses one all any each every while toward towards via "
    "such e.g etc concession reported conditional".split()
)
_VAGUE_CONCEPTS = frozenset({"@verdict", "@correct", "@clarity", "@answer"})
_PHRASES = (
    (r"\bword[- ]for[- ]word\b", " literal "),
    (r"\b(?:instead of|rather than)\b", " instead "),
    (r"\b(?:leave|leaves|leaving|left) out\b", " omit "),
    (r"\bstep[- ]by[- ]step\b", " step "),
    (r"\b(?:every|all|each) (?:part|aspect|question|point|requirement)s?\b", " complete "),
    (r"\b(?:walk|walks|walked|walking) through\b", " explain "),
    (r"\boff[- ]by[- ]one\b", " offbyone "),
    (r"\bmade[- ]up\b", " fabricated "),
    (r"\b(?:forg[eo]t(?:s|ten|ting)?|neglect(?:s|ed|ing)?) to\b", " fail to "),
    (r"\bfile[- ]handles?\b", " file "),
    (r"\blong[- ]winded\b", " verbose "),
    (r"\bcannot\b", " can not "),
    (r"\b(?:longer than|(?:goes|go|going|went) over|more than(?= \d))\b", " exceed "),
    (r"\b(?:leads?|led|leading) to\b|\bresults? in\b", " cause "),
    (r"\b(?:points?|pointed|pointing) out\b", " note "),
    (r"\b(?:although|even though|though|despite|even if)\b", " , concession "),
    (r"\bas (?:the user )?(?:asked|requested|instructed|required|specified)\b", " follow "),
    # Conditions ("returns None when there is no value") describe behaviour, not quality.
    (r"\b(?:when|whenever|if|unless)\b", " , conditional "),
    # What a response explains or warns about is content, not a judgement of the response.
    (
        r"\b(?:explain|note|warn|caution|mention|clarif(?:y|ie)|show|state)(?:s|ed|d)?\s+that\b",
        " explain , reported ",
    ),
    (r"n[’']t\b", " not "),
    (r"[’']s\b", " "),
)
_COMPILED_PHRASES = tuple((re.compile(pattern), repl) for pattern, repl in _PHRASES)
_CLAUSE_BREAK = re.compile(
    r"[,;:!?()\[\]\"]|\.(?!\w)|\b(?:but|because|although|though|whereas|since|yet|however|while)\b"
)
_TOKEN = re.compile(r"[^\W_]+(?:[.^/+][^\W_]+)*")


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    """Deliberately light suffix stripping: consistent, not linguistically perfect."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("sses", "ss")):
        if word.endswith(suffix):
            return word[: -len(suffix)] + repl
    for suffix in ("ations", "ation", "ions", "ion", "ments", "ment", "ing", "edly", "ed", "es"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return _trim(word[: -len(suffix)])
    if word.endswith("ly") and len(word) > 5:
        return _trim(word[:-2])
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return _trim(word[:-1])
    return _trim(word)


def _trim(stem: str) -> str:
    # Drop a final "e" and undouble a final consonant so "translate"/"translated" and
    # "running"/"run" land on one stem.
    if stem.endswith("e") and len(stem) > 3:
        stem = stem[:-1]
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiousl":
        stem = stem[:-1]
    return stem


@dataclass(frozen=True)
class _Entry:
    concept: str
    sign: int


def _build_lexicon() -> dict[str, _Entry]:
    lexicon: dict[str, _Entry] = {}
    for concept, (positive, negative, neutral) in _GROUPS.items():
        for words, sign in ((positive, 1), (negative, -1), (neutral, 0)):
            for word in words.split():
                # "-ly" adjectives keep their own key so "friendly" never claims "friend".
                key = word if word.endswith("ly") else _stem(word)
                lexicon.setdefault(key, _Entry(f"@{concept}", sign))
    return lexicon


_LEXICON = _build_lexicon()
_SYNONYMS = _build_synonyms()


def _lookup(word: str) -> _Entry | None:
    """Lexicon entry for a word, trying comparative and adverb forms ("wordier", "robustly")."""
    candidates = [(word, 1), (_stem(word), 1)]
    for suffix, repl in (("iest", "y"), ("ier", "y"), ("est", ""), ("er", ""), ("ically", "ic")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + repl
            candidates += [(_stem(base), 1), (_stem(base + "e"), 1), (_trim(base), 1)]
    if word.startswith(("un", "in")) and len(word) > 5:
        # "unreadable" is the antonym of a known word even when the lexicon lacks it.
        candidates.append((_stem(word[2:]), -1))
    for candidate, flip in candidates:
        entry = _LEXICON.get(candidate)
        if entry is not None:
            return _Entry(entry.concept, entry.sign * flip)
    return None


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
    for row, col in zip(*linear_sum_assignment(matrix, maximize=True), strict=True):
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
