"""The lexical matcher's vocabulary: concept groups (antonyms share a concept, the sign tells
them apart), synonyms, negators and modifiers, stop words, phrase rewrites, and a light stemmer.

Private to the lexical matcher (lexical_atoms reads it; lexical.py scores with it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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
