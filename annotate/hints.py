"""Writing hints for atoms. A hint never blocks a save; static/js/workspace.js mirrors these rules
so the editor can show them while typing (keep both in step)."""

from __future__ import annotations

import re

RESPONSE = re.compile(r"\bresponse\s*(?:[12ab]|one|two)\b|\b(?:both|neither) responses?\b", re.I)
ANCHOR = re.compile(
    r"[\"“”‘`]|\d|\b(?:line|lines|paragraph|sentence|step|steps|section|heading|title|list|"
    r"bullet|table|code|function|example|word|words|phrase|intro|introduction|conclusion|"
    r"ending|opening|first|second|third|last|final|column|row|variable|loop|formula|answer|"
    r"claim|date|name|number|unit|link|citation|translation|summary)\b",
    re.I,
)
MULTI = re.compile(r";|[.!?]\s+[A-Z]|,\s*and\b|\bbut\b|\bas well as\b|\balso\b|\bwhile\b", re.I)

VAGUE = "Vague: point at a specific part of a response (a line, step, quote or fact)."
NO_SIDE = "Say which response this is about (Response 1 or Response 2)."
MULTI_CLAIM = "Looks like more than one claim: split it into separate atoms."


def atom_hints(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    hints = []
    if not RESPONSE.search(text):
        hints.append(NO_SIDE)
    if len(text.split()) < 5 or not ANCHOR.search(RESPONSE.sub("", text)):
        hints.append(VAGUE)
    if MULTI.search(text):
        hints.append(MULTI_CLAIM)
    return hints
