"""The one access helper per owned object. Every view, API and test goes through here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from annotate.models import Checklist, Dataset, DatasetMembership, ImportJob, Pair

ANNOTATOR = DatasetMembership.Role.ANNOTATOR.value
REVIEWER = DatasetMembership.Role.REVIEWER.value


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


def get_import_job(user, job_id: int) -> ImportJob:
    """Imports are a superuser's business (as uploads are): 403 for everyone else."""
    if not user.is_superuser:
        raise PermissionDenied("Only superusers import data.")
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        raise Http404("No such import.")
    return job


def _roles(user) -> dict[int, str]:
    """{dataset id: role} from the user's memberships; one query per request."""
    roles = getattr(user, "_dataset_roles", None)
    if roles is None:
        rows = DatasetMembership.objects.filter(user=user).values_list("dataset_id", "role")
        roles = user._dataset_roles = dict(rows)
    return roles


def has_role(user, role: str, dataset: Dataset | int | None = None) -> bool:
    """The user has `role` in `dataset` (by its membership there); with no dataset, in at
    least one. Superusers have every role everywhere. Global groups are not consulted."""
    if user.is_superuser:
        return True
    if not user.is_authenticated:
        return False
    roles = _roles(user)
    if dataset is None:
        return role in roles.values()
    return roles.get(getattr(dataset, "pk", dataset)) == role


def datasets_with_role(user, role: str) -> QuerySet[Dataset]:
    """The datasets in which the user has this role (all of them for a superuser)."""
    if user.is_superuser:
        return Dataset.objects.all()
    if not user.is_authenticated:
        return Dataset.objects.none()
    return Dataset.objects.filter(datasetmembership__user=user, datasetmembership__role=role)


def get_checklist(user, checklist_id: int, *, review: bool = False) -> Checklist:
    """A checklist in a dataset the user sees: 404 otherwise.

    Only its owner and reviewers of its dataset may open it (404 for anyone else, so that k
    independent annotators never see each other's drafts); review actions need the reviewer
    role in that dataset (403).
    """
    checklist = (
        Checklist.objects.select_related("pair__dataset", "current", "owner")
        .filter(pk=checklist_id, pair__dataset__in=visible_datasets(user))
        .first()
    )
    if checklist is None:
        raise Http404("No such checklist.")
    is_reviewer = has_role(user, REVIEWER, checklist.pair.dataset_id)
    if review and not is_reviewer:
        raise PermissionDenied("Only reviewers may review checklists.")
    if checklist.owner_id != user.pk and not is_reviewer:
        raise Http404("No such checklist.")
    return checklist
