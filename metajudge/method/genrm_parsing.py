"""Read a GenRM answer: its verdict, its own reason list, and an atomizer's answer.

Pure Python, no Django: the run, the reward endpoint and the tests parse with the same code.

The stated verdict grammar is ``[[VERDICT: 1]]`` or ``[[VERDICT: 2]]`` (A/B accepted for 1/2).
The demo critics' ``Final verdict: Response A is better.`` line is read too. No verdict, or
verdicts that disagree, is a parse error: a reward must never guess the label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

VERDICT = re.compile(r"\[\[\s*VERDICT\s*:\s*(?:RESPONSE\s*)?([12AB])\s*\]\]", re.IGNORECASE)
FINAL_VERDICT = re.compile(
    r"final\s+verdict\s*:?\s*\**\s*response\s*\[?([12AB])\]?\b", re.IGNORECASE
)
VERDICT_LINE = re.compile(r"\[\[\s*VERDICT|final\s+verdict", re.IGNORECASE)
THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL | re.IGNORECASE)
BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+(.+?)\s*$")
ATOMS_BLOCK = re.compile(r"<ATOMS_START>(.*?)<ATOMS_END>", re.DOTALL)
_SIDES = {"1": 1, "2": 2, "a": 1, "b": 2}
MAX_ATOM_CHARS = 1000


@dataclass(frozen=True)
class ParsedJudgment:
    label: int | None
    atoms: list[str] = field(default_factory=list)
    error: str = ""


def visible_text(text: str, *, include_think: bool = False) -> str:
    """The rationale a reader sees; with include_think the scratchpad is kept, tags dropped."""
    if include_think:
        return THINK.sub(lambda m: m.group(1), text).replace("<think>", "").replace("</think>", "")
    return text.rsplit("</think>", 1)[-1] if "</think>" in text else text


def parse_verdict(text: str | None) -> tuple[int | None, str]:
    """(label, "") or (None, why). Only the visible part counts: drafts may change their mind."""
    if not text or not text.strip():
        return None, "empty answer"
    visible = visible_text(text)
    found = VERDICT.findall(visible) or FINAL_VERDICT.findall(visible)
    if not found:
        return None, "no verdict: expected [[VERDICT: 1]] or [[VERDICT: 2]]"
    labels = {_SIDES[value.lower()] for value in found}
    if len(labels) > 1:
        return None, "ambiguous verdict: both 1 and 2 are given"
    return labels.pop(), ""


def clean_atom(text: str) -> str:
    text = text.replace("**", "")  # bold markers only: backticks carry code (`==` vs `is`)
    return " ".join(text.split())[:MAX_ATOM_CHARS]


def dedupe(atoms: list[str]) -> list[str]:
    """Repeats (ignoring case, spacing and end punctuation) keep their first place."""
    seen, kept = set(), []
    for atom in atoms:
        key = atom.lower().rstrip(".!;:").strip()
        if key and key not in seen:
            seen.add(key)
            kept.append(atom)
    return kept


def reason_list(text: str, *, include_think: bool = False) -> list[str]:
    """The answer's own bullet or numbered reasons, verdict lines left out."""
    atoms = []
    for line in visible_text(text, include_think=include_think).splitlines():
        found = BULLET.match(line)
        if found and not VERDICT_LINE.search(line):
            atoms.append(clean_atom(found.group(1)))
    return dedupe([a for a in atoms if a])


def parse_judgment(text: str | None, *, include_think: bool = False) -> ParsedJudgment:
    label, error = parse_verdict(text)
    atoms = reason_list(text or "", include_think=include_think)
    return ParsedJudgment(label, atoms, error)


def parse_atomizer(text: str | None) -> tuple[list[str], str]:
    """(atoms, "") or ([], why). An empty block is a valid answer: nothing survived."""
    if text is None:
        return [], "call failed"
    block = ATOMS_BLOCK.search(text)
    if block is None:
        return [], "no <ATOMS_START>...<ATOMS_END> block"
    atoms = []
    for line in block.group(1).splitlines():
        found = BULLET.match(line)
        if found:
            atoms.append(clean_atom(found.group(1)))
        elif line.strip():
            return [], f"a line in the block is not a '- ' reason: {line.strip()[:80]!r}"
    return dedupe([a for a in atoms if a]), ""


def rationale_for_atomizer(text: str, *, include_think: bool = False) -> str:
    """The rationale without its verdict lines, for an atomizer call."""
    lines = visible_text(text, include_think=include_think).splitlines()
    return "\n".join(line for line in lines if not VERDICT_LINE.search(line)).strip()
