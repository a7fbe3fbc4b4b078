"""The one access helper per owned object. Every view, API and test goes through here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from annotate.models import Checklist, Dataset, Pair

ANNOTATOR = "annotator"
REVIEWER = "reviewer"


def visible_datasets(user) -> QuerySet[Dataset]:
    if not user.is_authenticated:
        return Dataset.objects.none()
    if user.is_superuser:
        return Dataset.objects.all()
    return Dataset.objects.filter(members=user)


def get_dataset(user, name: str) -> Dataset:
    """The dataset by name if the user may see it; 404 otherwise (no hint that it exists)."""
    dataset = visible_datasets(user).filter(name=name).first()
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset


def get_dataset_by_id(user, dataset_id: int) -> Dataset:
    dataset = visible_datasets(user).filter(pk=dataset_id).first()
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset


def get_pair(user, pair_id: int) -> Pair:
    pair = Pair.objects.filter(pk=pair_id, dataset__in=visible_datasets(user)).first()
    if pair is None:
        raise Http404("No such pair.")
    return pair


def has_role(user, role: str) -> bool:
    if user.is_superuser:
        return True
    if not user.is_authenticated:
        return False
    names = getattr(user, "_role_names", None)
    if names is None:  # one query per request, however many checks
        names = user._role_names = set(user.groups.values_list("name", flat=True))
    return role in names


def get_checklist(user, checklist_id: int, *, review: bool = False) -> Checklist:
    """A checklist in a dataset the user sees: 404 otherwise.

    Only its owner and reviewers may open it (404 for anyone else, so that k independent
    annotators never see each other's drafts); review actions need the reviewer role (403).
    """
    checklist = (
        Checklist.objects.select_related("pair__dataset", "current", "owner")
        .filter(pk=checklist_id, pair__dataset__in=visible_datasets(user))
        .first()
    )
    if checklist is None:
        raise Http404("No such checklist.")
    is_reviewer = has_role(user, REVIEWER)
    if review and not is_reviewer:
        raise PermissionDenied("Only reviewers may review checklists.")
    if checklist.owner_id != user.pk and not is_reviewer:
        raise Http404("No such checklist.")
    return checklist
