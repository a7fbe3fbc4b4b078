"""Browse pairs: search and filter every pair a user sees, keyset-paged on the pair id."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet

from annotate.access import visible_datasets
from annotate.models import Checklist, Pair

PAGE = 50
STATUSES = {
    "unannotated": "No human checklist yet",
    "open": "Slots open (fewer than k finished)",
    "done": "All k checklists finished",
}


def browse_pairs(
    user, *, q: str = "", dataset_id: int | None = None, domain: str = "", status: str = ""
) -> QuerySet[Pair]:
    qs = Pair.objects.filter(dataset__in=visible_datasets(user)).select_related("dataset")
    if dataset_id:
        qs = qs.filter(dataset_id=dataset_id)
    if domain:
        qs = qs.filter(domain=domain)
    q = q.strip()[:200]
    if q:
        match = Q(external_id__icontains=q) | Q(key=q) | Q(response_1__icontains=q)
        match |= Q(response_2__icontains=q)
        if q.isdigit():
            match |= Q(pk=int(q))
        qs = qs.filter(match)
    finished = Count(
        "checklists",
        filter=Q(checklists__status__in=Checklist.DONE_STATUSES)
        | Q(checklists__current__isnull=False, checklists__owner__isnull=True),
        distinct=True,
    )
    qs = qs.annotate(
        n_checklists=Count(
            "checklists", filter=Q(checklists__current__isnull=False), distinct=True
        ),
        n_finished=finished,
    )
    if status == "unannotated":
        qs = qs.filter(n_checklists=0)
    elif status == "open":
        qs = qs.filter(n_finished__lt=F("dataset__checklists_per_pair"))
    elif status == "done":
        qs = qs.filter(n_finished__gte=F("dataset__checklists_per_pair"))
    return qs.defer("raw_json", "context").order_by("pk")


def browse_page(qs: QuerySet[Pair], after: str | None) -> dict:
    if after and after.isdigit():
        qs = qs.filter(pk__gt=int(after))
    rows = list(qs[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return {"rows": rows, "next_after": rows[-1].pk if more else None}
