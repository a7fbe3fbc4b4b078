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
# Naming what a response does (a content verb) or a concrete token (code, a symbol, a unit, a
# proper noun inside the sentence) also points at a specific part of it.
SPECIFIC = re.compile(
    r"\b(?:says|states|claims|recommends|suggests|advises|tells|uses|gives|gets|computes|"
    r"converts|returns|raises|throws|calls|deletes|ignores|omits|skips|misses|adds|includes|"
    r"mentions|explains|names|lists|cites|quotes|translates|replaces|keeps|breaks|follows|"
    r"violates|exceeds|contradicts|misspells|defines|confuses|sorts|mutates|crashes|fails|"
    r"invents|answers|asks|addresses|covers|notes|applies|treats|assumes|swaps|moves|drops|"
    r"attributes|catches|loads|writes|renders|shows|streams|hides|checks|reads|spells)\b"
    r"|\w\(|\w\.\w|\w_\w|[€$£%°=×−+<>]|'[^']+'|[^\x00-\u024f]"
    r"|(?<=[a-z,;:] )[A-Z][\w'-]+"
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
    rest = RESPONSE.sub("", text)
    if len(text.split()) < 5 or not (ANCHOR.search(rest) or SPECIFIC.search(rest)):
        hints.append(VAGUE)
    if MULTI.search(text):
        hints.append(MULTI_CLAIM)
    return hints
