"""Reads for audit triage: the spurious-correct queue of a critic, one case, a run's progress.

The queue is keyset-paged on the partial index `result_triage_idx` (run, recall, id): a page reads
at most PAGE_SIZE + 1 rows whatever its depth, and never an OFFSET.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from annotate.models import Checklist, Dataset, Pair
from metajudge.audit.selectors import parse_threshold
from metajudge.method import scoring
from metajudge.models import AuditVerdict, MatchResult, MatchRun

S = MatchResult.Status
V = AuditVerdict.Kind
PAGE_SIZE = 25


def critic_runs(dataset: Dataset, critic: str) -> list[MatchRun]:
    """A critic's scoring runs, newest first: the triage queue's "judge" choices."""
    return list(
        MatchRun.objects.filter(dataset=dataset, critic__name=critic)
        .exclude(matcher=MatchRun.Matcher.VERDICT)
        .select_related("critic")
        .order_by("-created_at", "-pk")
    )


# --- triage queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    threshold: float = scoring.SPURIOUS_RECALL_THRESHOLD
    domain: str = ""
    verdict: str = ""  # a Kind value, or "none"
    reviewed: str = ""  # "yes" | "no" | ""

    @classmethod
    def from_params(cls, params) -> QueueFilters:
        verdict = params.get("verdict", "")
        reviewed = params.get("reviewed", "")
        return cls(
            threshold=parse_threshold(params.get("threshold")),
            domain=params.get("domain", "")[:64],
            verdict=verdict if verdict in V.values or verdict == "none" else "",
            reviewed=reviewed if reviewed in ("yes", "no") else "",
        )


def spurious_queue(run: MatchRun, filters: QueueFilters) -> QuerySet[MatchResult]:
    """Label right, valid, recall under the threshold; worst recall first (matches the index)."""
    qs = MatchResult.objects.filter(
        run=run, status=S.VALID, label_correct=True, recall__lt=filters.threshold
    )
    if filters.domain:
        qs = qs.filter(pair__domain=filters.domain)
    reviewed = Exists(AuditVerdict.objects.filter(result=OuterRef("pk")))
    if filters.verdict == "none" or filters.reviewed == "no":
        qs = qs.filter(~reviewed)
    elif filters.verdict:
        qs = qs.filter(audit_verdict__kind=filters.verdict)
    elif filters.reviewed == "yes":
        qs = qs.filter(reviewed)
    return qs.order_by("recall", "pk")


def parse_cursor(raw: str | None) -> tuple[float, int] | None:
    try:
        recall, pk = (raw or "").split("_", 1)
        return float(recall), int(pk)
    except ValueError:
        return None


def _after(qs: QuerySet, cursor: tuple[float, int]) -> QuerySet:
    recall, pk = cursor
    return qs.filter(Q(recall__gt=recall) | Q(recall=recall, pk__gt=pk))


def _before(qs: QuerySet, cursor: tuple[float, int]) -> QuerySet:
    recall, pk = cursor
    return qs.filter(Q(recall__lt=recall) | Q(recall=recall, pk__lt=pk))


def cursor_of(result: MatchResult) -> str:
    return f"{result.recall!r}_{result.pk}"


def queue_page(qs: QuerySet[MatchResult], *, after: str | None, size: int | None = None) -> dict:
    """One keyset page: never an OFFSET, never more than size + 1 rows read."""
    size = size or PAGE_SIZE
    cursor = parse_cursor(after)
    page_qs = _after(qs, cursor) if cursor else qs
    rows = list(
        page_qs.select_related("pair", "audit_verdict", "judgment").defer(
            "raw_text",
            "judgment__generated_text",
            "pair__raw_json",
            "pair__response_1",
            "pair__response_2",
            "pair__context",
        )[: size + 1]
    )
    has_next = len(rows) > size
    rows = rows[:size]
    return {
        "rows": rows,
        "next": cursor_of(rows[-1]) if has_next else None,
        "first": cursor is None,
    }


def neighbours(qs: QuerySet[MatchResult], result: MatchResult) -> tuple[int | None, int | None]:
    """Previous and next case ids in the queue order (two indexed look-ups)."""
    if result.recall is None:
        return None, qs.values_list("pk", flat=True).first()
    cursor = (result.recall, result.pk)
    prev_id = _before(qs, cursor).order_by("-recall", "-pk").values_list("pk", flat=True).first()
    next_id = _after(qs, cursor).values_list("pk", flat=True).first()
    return prev_id, next_id


def dataset_domains(dataset: Dataset) -> list[str]:
    return list(
        Pair.objects.filter(dataset=dataset)
        .exclude(domain="")
        .order_by("domain")
        .values_list("domain", flat=True)
        .distinct()
    )


# --- one case -----------------------------------------------------------------------------------


def score_class(score: float | None) -> str:
    if score is None:
        return "s-none"
    return f"s{int(round(score * 4) * 25)}"


def alignment(human: list[str], model: list[str], lines: list) -> dict:
    """Human atoms linked to their best model atom; model atoms with the human atoms they cover."""
    cap = min(len(model), settings.METAJUDGE_PRECISION_CAP)
    best: dict[int, tuple[int, float]] = {}
    covers: dict[int, list[tuple[int, float]]] = {}
    for line in lines:
        i, j, score = int(line[0]), int(line[1]), float(line[2])
        if j == 0 or j > len(model) or i > len(human):
            continue
        if score > best.get(i, (0, -1.0))[1]:
            best[i] = (j, score)
        if score > 0:
            covers.setdefault(j, []).append((i, score))
    humans = []
    for i, text in enumerate(human, start=1):
        j, score = best.get(i, (0, 0.0))
        matched = j > 0 and score > 0
        humans.append(
            {
                "i": i,
                "text": text,
                "j": j if matched else None,
                "score": score,
                "cls": score_class(score),
                "matched": matched,
            }
        )
    models = []
    for j, text in enumerate(model, start=1):
        hits = sorted(covers.get(j, []), key=lambda h: -h[1])
        top = hits[0][1] if hits else None
        models.append(
            {
                "j": j,
                "text": text,
                "covers": hits,
                "score": top,
                "cls": score_class(top),
                "matched": bool(hits),
                "scored": j <= cap,
            }
        )
    return {"human": humans, "model": models, "cap": cap}


def highlight(text: str, model: list[dict]) -> list[dict]:
    """The generated text cut into segments; a segment that quotes a model atom carries it.

    The template escapes every segment, so no HTML is ever built here.
    """
    spans = []
    folded = text.casefold()
    for atom in model:
        needle = atom["text"].strip().rstrip(".").casefold()
        start = folded.find(needle) if len(needle) >= 8 else -1
        if start >= 0:
            spans.append((start, start + len(needle), atom))
    segments, pos = [], 0
    for start, end, atom in sorted(spans, key=lambda s: s[0]):
        if start < pos:
            continue  # overlapping quote: keep the first
        if start > pos:
            segments.append({"text": text[pos:start], "atom": None})
        segments.append({"text": text[start:end], "atom": atom})
        pos = end
    if pos < len(text):
        segments.append({"text": text[pos:], "atom": None})
    return segments


JUDGE_LINE = re.compile(r"^\s*-?\s*R(\d+)\s*@\s*S\d+\s*:.*$", re.M)


def judge_lines(raw_text: str) -> dict[int, str]:
    """The judge's own answer line for each human atom (the last one, as the parser reads it)."""
    return {int(m.group(1)): m.group(0).strip()[:300] for m in JUDGE_LINE.finditer(raw_text or "")}


def case_detail(result: MatchResult) -> dict:
    checklist = (
        Checklist.objects.filter(pair_id=result.pair_id, slot=0).select_related("current").first()
    )
    human = (
        list(result.revision.atoms)
        if result.revision_id
        else (checklist.atoms if checklist else [])
    )
    model = list(result.judgment.atoms) if result.judgment_id else []
    aligned = alignment(human, model, result.lines or [])
    said = judge_lines(result.raw_text)
    for atom in aligned["human"]:
        atom["judge_line"] = said.get(atom["i"], "")
    text = result.judgment.generated_text if result.judgment_id else ""
    verdict = getattr(result, "audit_verdict", None)
    return {
        **aligned,
        "segments": highlight(text, aligned["model"]),
        "checklist": checklist,
        "verdict": verdict,
        "checklist_changed": bool(checklist and checklist.current_id != result.revision_id),
    }
