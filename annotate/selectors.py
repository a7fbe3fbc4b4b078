"""Reads for the annotate app."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from annotate.access import visible_datasets
from annotate.models import Checklist, Dataset, Pair
from metajudge.models import Judgment


def datasets_with_counts(user) -> QuerySet[Dataset]:
    """One query: the datasets a user sees, with pair, checklist and critic counts."""
    pairs = (
        Pair.objects.filter(dataset=OuterRef("pk")).order_by().values("dataset")
        .annotate(n=Count("pk")).values("n")
    )
    checked = (
        Checklist.objects.filter(pair__dataset=OuterRef("pk"), slot=0, current__isnull=False)
        .order_by().values("pair__dataset").annotate(n=Count("pk")).values("n")
    )
    critics = (
        Judgment.objects.filter(pair__dataset=OuterRef("pk")).order_by().values("pair__dataset")
        .annotate(n=Count("critic", distinct=True)).values("n")
    )
    return visible_datasets(user).annotate(
        n_pairs=Coalesce(Subquery(pairs, output_field=IntegerField()), Value(0)),
        n_checklists=Coalesce(Subquery(checked, output_field=IntegerField()), Value(0)),
        n_critics=Coalesce(Subquery(critics, output_field=IntegerField()), Value(0)),
    )


def domain_counts(dataset: Dataset) -> list[tuple[str, int]]:
    return list(
        Pair.objects.filter(dataset=dataset).values_list("domain").annotate(n=Count("pk"))
        .order_by("domain")
    )


def pairs_for(dataset: Dataset, *, domain: str = "") -> QuerySet[Pair]:
    qs = Pair.objects.filter(dataset=dataset)
    return qs.filter(Q(domain=domain)) if domain else qs
