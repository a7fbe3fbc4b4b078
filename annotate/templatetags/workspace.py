from django import template

from annotate.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str):
    """Untrusted Markdown to sanitised HTML (see annotate/markdown.py)."""
    return render_markdown(text or "")


@register.filter
def preference_label(pair) -> str:
    if pair.preference == 0:
        return "Tie"
    if pair.preference in (1, 2):
        return f"Response {pair.preference}"
    return "Unknown"
