"""MetaJudge answer parsing and rationale metrics.

Pure Python on purpose: the same code scores live judge answers, imported reference outputs and the
offline matcher, so it must not depend on Django. Every rule here mirrors the reference scripts; the
tests in ``tests/test_scoring.py`` pin each of them, including the odd ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RESULT_BLOCK = re.compile(r"<RESULT_START>(.*?)<RESULT_END>", re.DOTALL)
SCORE_LINE = re.compile(r"- R(\d+)@S(\d+): (\d+(?:\.\d+)?)")
SCORE_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
MAX_CHECKLIST_LEN = 10
PRECISION_CAP = 5
SPURIOUS_RECALL_THRESHOLD = 0.5

VALID = "valid"
SKIPPED = "skipped"
ERROR = "error"

METRICS = ("precision", "recall", "f1", "average_precision")

Line = tuple[int, int, float]


@dataclass(frozen=True)
class ParsedAnswer:
    """Score lines ``(i, j, score)`` in answer order, or the reason the answer is unusable."""

    lines: tuple[Line, ...]
    error: str | None


@dataclass(frozen=True)
class SampleScore:
    status: str  # VALID | SKIPPED | ERROR
    error: str = ""
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    average_precision: float | None = None


def parse_answer(text: str | None) -> ParsedAnswer:
    """Rule 1: only the first result block counts, and every score must lie in [0, 1]."""
    if text is None:
        return ParsedAnswer((), "call failed")
    block = RESULT_BLOCK.search(text)
    if block is None:
        return ParsedAnswer((), "no <RESULT_START>...<RESULT_END> block")
    found = SCORE_LINE.findall(block.group(1))
    if not found:
        return ParsedAnswer((), "no score line in the result block")
    lines = tuple((int(i), int(j), float(score)) for i, j, score in found)
    # The regex cannot capture a sign, so only scores above 1 can be out of range.
    if any(not 0.0 <= score <= 1.0 for _, _, score in lines):
        return ParsedAnswer(lines, "score outside [0, 1]")
    return ParsedAnswer(lines, None)


def _best_by(lines: Iterable[Line], key: int) -> dict[int, float]:
    """Best score per atom index; dict order is first appearance, as in the reference loop."""
    best: dict[int, float] = {}
    for line in lines:
        index, score = line[key], line[2]
        best[index] = max(best.get(index, 0.0), score)
    return best


def _average_precision(best_j: dict[int, float], n: int) -> float:
    running = 0.0
    total = 0.0
    for rank, j in enumerate(sorted(best_j), start=1):
        running += best_j[j]
        total += running / rank
    return total / n


def score_lines(
    lines: Iterable[Line], n: int, m: int, *, precision_cap: int = PRECISION_CAP
) -> dict:
    """Rule 4: recall, precision, F1 and AP from lines already known to be well formed."""
    capped = min(m, precision_cap)
    # S0 means "no match"; indices past the checklists (or past the cap) are silently dropped.
    kept = [(i, j, s) for i, j, s in lines if j != 0 and i <= n and j <= capped]
    if not kept:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "average_precision": 0.0}
    best_i = _best_by(kept, 0)
    best_j = _best_by(kept, 1)
    recall = sum(best_i.values()) / n
    precision = sum(best_j.values()) / capped
    total = precision + recall
    f1 = 2 * precision * recall / total if total > 0 else 0.0
    ap = _average_precision(best_j, n)
    return {"precision": precision, "recall": recall, "f1": f1, "average_precision": ap}


def score_sample(
    text: str | None,
    n_human: int,
    n_model: int,
    *,
    call_failed: bool = False,
    max_checklist_len: int = MAX_CHECKLIST_LEN,
    precision_cap: int = PRECISION_CAP,
) -> SampleScore:
    """Rules 1-4 in the reference order: parse errors win over skips, skips over count errors."""
    parsed = parse_answer(None if call_failed else text)
    if parsed.error is not None:
        return SampleScore(ERROR, error=parsed.error)
    if n_model == 0 or n_model > max_checklist_len:
        return SampleScore(SKIPPED)
    if len(parsed.lines) != n_human:
        return SampleScore(ERROR, error=f"{len(parsed.lines)} score lines for {n_human} atoms")
    metrics = score_lines(parsed.lines, n_human, n_model, precision_cap=precision_cap)
    return SampleScore(VALID, **metrics)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _pstdev(values: Sequence[float]) -> float:
    # Population deviation (ddof=0) to match numpy.std in the reference scripts.
    if not values:
        return 0.0
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def aggregate(scores: Iterable[SampleScore]) -> dict:
    """Rule 5: dataset figures for one critic, means and deviations over valid samples only."""
    scores = list(scores)
    valid = [s for s in scores if s.status == VALID]
    result: dict = {
        "total_samples": len(scores),
        "valid_samples": len(valid),
        "error_samples": sum(1 for s in scores if s.status == ERROR),
        "skipped_samples": sum(1 for s in scores if s.status == SKIPPED),
    }
    for name in METRICS:
        values = [getattr(s, name) for s in valid]
        result[name] = _mean(values)
        result[f"{name}_std"] = _pstdev(values)
    return result


def outcome_correct(critic_label: int | None, human_label: int | None) -> bool | None:
    """Rule 6: None when the human preference is a tie or unknown, so it leaves the denominator.

    A critic without a label (None) still counts as wrong: a failed verdict is not a free pass.
    """
    if human_label not in (1, 2):
        return None
    return critic_label == human_label


def label_accuracy(outcomes: Iterable[bool | None]) -> float:
    decided = [o for o in outcomes if o is not None]
    return sum(decided) / len(decided) if decided else 0.0


def rationale_consistency(scores: Iterable[SampleScore]) -> float:
    """Mean recall over valid samples: how much of the human reasoning the critic reproduced."""
    return _mean([s.recall for s in scores if s.status == VALID])


def atom_mode_scorr(
    items: Iterable[tuple[bool | None, SampleScore]],
    threshold: float = SPURIOUS_RECALL_THRESHOLD,
) -> dict:
    """Spurious correctness in atom mode, counted among valid samples only."""
    label_correct = 0
    spurious = 0
    for correct, score in items:
        if correct is not True or score.status != VALID:
            continue
        label_correct += 1
        if score.recall < threshold:
            spurious += 1
    s_corr = spurious / label_correct if label_correct else 0.0
    return {"label_correct": label_correct, "spurious_correct": spurious, "s_corr": s_corr}


def visible_rationale(text: str) -> str:
    """What a reader sees: reasoning models hide their scratchpad before the last ``</think>``."""
    return text.rsplit("</think>", 1)[-1].strip()


def verdict_is_correct(verdict: str) -> bool:
    return verdict.strip().lower() == "correct"


def verdict_mode(correct: int, incorrect: int, label_accuracy: float) -> dict:
    """R-Align figures from binary meta-judge verdicts on label-correct samples."""
    judged = correct + incorrect
    s_corr = 1 - correct / judged if judged else 0.0
    return {"s_corr": s_corr, "f_score": label_accuracy * (1 - s_corr)}


def render_answer(lines: Sequence[Line]) -> str:
    body = "".join(f"- R{i}@S{j}: {score:.2f}\n" for i, j, score in lines)
    return f"<RESULT_START>\n{body}<RESULT_END>"


def reask_reason(text: str | None) -> str | None:
    """Why the judge is asked again, exactly when the reference inference asks again: no result
    block, no score line, a score outside [0, 1], R numbers that skip or repeat, or that do not
    start at R1. A count mismatch or an off-level score is no reason: the metric rules decide."""
    parsed = parse_answer(text)
    if parsed.error is not None:
        return parsed.error
    numbers = [i for i, _, _ in parsed.lines]
    for before, after in zip(numbers, numbers[1:], strict=False):
        if after != before + 1:
            return f"R numbers not consecutive: R{before} -> R{after}"
    if numbers[0] != 1:
        return f"R numbers start at R{numbers[0]}, not R1"
    return None


def reask_problem(text: str | None, n: int, *, strict: bool = False) -> str | None:
    """The reason to ask again under the template's setting: the reference rule by default."""
    return grammar_problem(text, n) if strict else reask_reason(text)


def grammar_problem(text: str | None, n: int) -> str | None:
    """The opt-in strict grammar (a template setting): exactly R1..Rn on the five levels.
    Off by default, since the reference accepts any score in [0, 1]."""
    parsed = parse_answer(text)
    if parsed.error is not None:
        return parsed.error
    if len(parsed.lines) != n:
        return f"expected {n} score lines, got {len(parsed.lines)}"
    numbers = [i for i, _, _ in parsed.lines]
    if numbers != list(range(1, n + 1)):
        return f"lines must run R1..R{n} in order, got {numbers}"
    off_level = [s for _, _, s in parsed.lines if s not in SCORE_LEVELS]
    if off_level:
        return f"scores must be one of 0, 0.25, 0.5, 0.75, 1; got {off_level[0]:g}"
    return None
