"""Reads for the annotate app."""

from __future__ import annotations

from datetime import timedelta
from difflib import SequenceMatcher

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from annotate import critic_judgments
from annotate.access import REVIEWER, datasets_with_role, visible_datasets
from annotate.models import (
    AtomSuggestion,
    Checklist,
    ChecklistRevision,
    Dataset,
    Pair,
    Review,
    SuggestionDecision,
)


def datasets_with_counts_cached(user, seconds: int = 15) -> list[Dataset]:
    """The same rows for the pages' dataset tables, shared for a few seconds by everyone who
    sees the same datasets: the counts are a summary, and they cost a scan per view."""
    ids = sorted(visible_datasets(user).values_list("pk", flat=True))
    key = "dataset-counts:" + ",".join(map(str, ids))
    rows = cache.get(key)
    if rows is None:
        rows = list(datasets_with_counts(user))
        cache.set(key, rows, seconds)
    return rows


def datasets_with_counts(user, *, role: str = "") -> QuerySet[Dataset]:
    """One query: the datasets a user sees (with `role`: those where they have that role), with
    pair, checklist and critic counts."""
    pairs = (
        Pair.objects.filter(dataset=OuterRef("pk"))
        .order_by()
        .values("dataset")
        .annotate(n=Count("pk"))
        .values("n")
    )
    checked = (
        Checklist.objects.filter(pair__dataset=OuterRef("pk"), slot=0, current__isnull=False)
        .order_by()
        .values("pair__dataset")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # Critics with at least one judgment here: an EXISTS probe per critic on the (critic, pair)
    # index, instead of a distinct count over every judgment of the dataset.
    critics = (
        critic_judgments.critic_model()
        .objects.filter(
            Exists(
                critic_judgments.judgment_model().objects.filter(
                    critic=OuterRef("pk"), pair__dataset=OuterRef(OuterRef("pk"))
                )
            )
        )
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(n=Count("pk"))
        .values("n")
    )
    base = datasets_with_role(user, role) if role else visible_datasets(user)
    return base.annotate(
        n_pairs=Coalesce(Subquery(pairs, output_field=IntegerField()), Value(0)),
        n_checklists=Coalesce(Subquery(checked, output_field=IntegerField()), Value(0)),
        n_critics=Coalesce(Subquery(critics, output_field=IntegerField()), Value(0)),
    )


def domain_counts(dataset: Dataset) -> list[tuple[str, int]]:
    return list(
        Pair.objects.filter(dataset=dataset)
        .values_list("domain")
        .annotate(n=Count("pk"))
        .order_by("domain")
    )


def pairs_for(dataset: Dataset, *, domain: str = "") -> QuerySet[Pair]:
    qs = Pair.objects.filter(dataset=dataset)
    return qs.filter(Q(domain=domain)) if domain else qs


# --- workspace --------------------------------------------------------------------------------

QUEUE_LIMIT = 50
STATUS_FILTERS = {
    "todo": ("todo",),
    "in_progress": ("in_progress",),
    "submitted": ("submitted", "approved"),
    "sent_back": ("sent_back",),
}


def annotatable_datasets(user) -> QuerySet[Dataset]:
    """Datasets the user works in: membership (superusers see all, but claim only as members)."""
    return Dataset.objects.filter(members=user) if user.is_authenticated else Dataset.objects.none()


def free_slot_q(now=None, prefix: str = "") -> Q:
    """A slot row nobody holds: unfinished, and ownerless or its claim expired. An ownerless
    checklist that a reviewer sent back (an imported one, say) is open to any annotator."""
    now = now or timezone.now()
    unfinished = Q(**{f"{prefix}status__in": [Checklist.Status.TODO, Checklist.Status.IN_PROGRESS]})
    unheld = Q(**{f"{prefix}owner__isnull": True}) | Q(**{f"{prefix}claim_expires_at__lt": now})
    orphan_sent_back = Q(
        **{f"{prefix}status": Checklist.Status.SENT_BACK, f"{prefix}owner__isnull": True}
    )
    return (unfinished & unheld) | orphan_sent_back


def claimable_pairs(user, *, dataset_id: int | None = None, domain: str = "") -> QuerySet[Pair]:
    """Pairs with a slot this user may claim, in file order. One query, no per-row work in Python.

    A pair qualifies when the user holds none of its slots and fewer than k of its checklists are
    held or finished. Ordered by the (dataset, position) index so LIMIT stops early.
    """
    held = (
        Checklist.objects.filter(
            pair=OuterRef("pk"), slot__lt=OuterRef("dataset__checklists_per_pair")
        )
        .exclude(free_slot_q())
        .order_by()
        .values("pair")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = (
        Pair.objects.filter(dataset__in=annotatable_datasets(user))
        .exclude(Exists(Checklist.objects.filter(pair=OuterRef("pk"), owner=user)))
        .annotate(n_held=Coalesce(Subquery(held, output_field=IntegerField()), Value(0)))
        .filter(n_held__lt=F("dataset__checklists_per_pair"))
    )
    if dataset_id:
        qs = qs.filter(dataset_id=dataset_id)
    if domain:
        qs = qs.filter(domain=domain)
    return qs.select_related("dataset").order_by("dataset_id", "position", "id")


def my_checklists(
    user, *, status: str = "", dataset_id: int | None = None, domain: str = ""
) -> QuerySet[Checklist]:
    qs = Checklist.objects.filter(owner=user).select_related("pair__dataset", "current")
    if status in STATUS_FILTERS:
        qs = qs.filter(status__in=STATUS_FILTERS[status])
    if dataset_id:
        qs = qs.filter(pair__dataset_id=dataset_id)
    if domain:
        qs = qs.filter(pair__domain=domain)
    # Open work first (sent back, then in progress, then to do), then the most recent.
    order = Case(
        When(status="sent_back", then=0),
        When(status="in_progress", then=1),
        When(status="todo", then=2),
        default=3,
    )
    return qs.order_by(order, "-updated_at", "-id")


def next_open_checklist(user, *, exclude_id: int | None = None) -> Checklist | None:
    qs = my_checklists(user).filter(status__in=Checklist.OPEN_STATUSES)
    return qs.exclude(pk=exclude_id).first() if exclude_id else qs.first()


def my_progress(user, *, days: int = 7) -> dict:
    """Done / total of my claimed slots, and my submissions per day (one query each)."""
    totals = Checklist.objects.filter(owner=user).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status__in=Checklist.DONE_STATUSES)),
        sent_back=Count("pk", filter=Q(status="sent_back")),
        open=Count("pk", filter=Q(status__in=("todo", "in_progress"))),
    )
    since = timezone.now() - timedelta(days=days - 1)
    start = since.date()
    rows = dict(
        Checklist.objects.filter(owner=user, submitted_at__date__gte=start)
        .annotate(day=TruncDate("submitted_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    per_day = [
        (start + timedelta(days=i), rows.get(start + timedelta(days=i), 0)) for i in range(days)
    ]
    peak = max((n for _, n in per_day), default=0) or 1
    return {**totals, "per_day": [(d, n, round(100 * n / peak)) for d, n in per_day]}


def queue_domains(user) -> list[str]:
    return list(
        Pair.objects.filter(dataset__in=annotatable_datasets(user))
        .exclude(domain="")
        .order_by("domain")
        .values_list("domain", flat=True)
        .distinct()
    )


def open_suggestions(checklist: Checklist) -> list:
    """Suggestions this checklist's editor has not decided yet and does not already contain."""
    decided = SuggestionDecision.objects.filter(suggestion=OuterRef("pk"), checklist=checklist)
    rows = AtomSuggestion.objects.filter(pair_id=checklist.pair_id).exclude(Exists(decided))
    if checklist.pair.dataset.blind_slots:  # independent slots: no other checklist's atoms
        rows = rows.exclude(source=AtomSuggestion.Source.IMPORT)
    present = {a.casefold() for a in checklist.atoms}
    rows = rows.order_by("source", "position", "id")
    return [s for s in rows if s.text.casefold() not in present]


def latest_review(checklist: Checklist) -> Review | None:
    return checklist.reviews.select_related("reviewer").first()


def revisions_of(checklist: Checklist) -> QuerySet[ChecklistRevision]:
    return checklist.revisions.select_related("author").order_by("-number")


def pair_checklists(pair: Pair) -> QuerySet[Checklist]:
    return pair.checklists.select_related("owner", "current").order_by("slot")


def review_queue(user, *, dataset_id: int | None = None) -> QuerySet[Checklist]:
    qs = Checklist.objects.filter(
        status=Checklist.Status.SUBMITTED,
        owner__isnull=False,
        pair__dataset__in=datasets_with_role(user, REVIEWER),
    ).select_related("pair__dataset", "owner", "current")
    if dataset_id:
        qs = qs.filter(pair__dataset_id=dataset_id)
    return qs.order_by("submitted_at", "id")


def recently_reviewed(user, *, limit: int = 20) -> QuerySet[Review]:
    return (
        Review.objects.filter(reviewer=user)
        .select_related("checklist__pair__dataset", "checklist__owner")
        .order_by("-created_at")[:limit]
    )


def atom_diff(old: list[str], new: list[str]) -> list[dict]:
    """Atom-level diff rows: op is equal, delete, insert or replace (old and new side by side)."""
    rows = []
    matcher = SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        olds, news = old[i1:i2], new[j1:j2]
        for k in range(max(len(olds), len(news))):
            a = olds[k] if k < len(olds) else None
            b = news[k] if k < len(news) else None
            kind = op
            if op == "replace":
                kind = "replace" if a and b else "delete" if a else "insert"
            rows.append({"op": kind, "old": a, "new": b})
    return rows
