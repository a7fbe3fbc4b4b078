from django import template

from metajudge.audit.triage import score_class as _score_class
from metajudge.llm.keys import redact as _redact

register = template.Library()


@register.filter
def score_class(score) -> str:
    """CSS class for a match score: s0, s25, s50, s75, s100 (s-none when absent)."""
    return _score_class(score)


LEVELS = {
    0.0: "not achieved",
    0.25: "slightly involved",
    0.5: "partially achieved",
    0.75: "mostly achieved",
    1.0: "fully achieved",
}


@register.filter
def level_word(score) -> str:
    """The words of the MetaJudge scale beside its number (the prompt's own wording)."""
    if score is None:
        return ""
    nearest = min(LEVELS, key=lambda level: abs(level - float(score)))
    return LEVELS[nearest]


@register.filter
def redact(text) -> str:
    """Any configured API key's value cut out of a text shown on a page (still auto-escaped)."""
    return _redact(str(text)) if text else ""
