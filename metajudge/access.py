"""Access helpers for the audit: visibility first (404), then the reviewer role (403).

An outsider learns nothing of another dataset's runs and results; an annotator of the dataset is
told plainly that audit pages are for reviewers.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from annotate.access import REVIEWER, get_dataset, has_role, visible_datasets
from annotate.models import Dataset
from metajudge.models import GenrmRun, MatchResult, MatchRun


def require_reviewer(user, dataset: Dataset | int | None = None) -> None:
    """The reviewer role in this dataset (or, with none, in at least one): 403 otherwise."""
    if not has_role(user, REVIEWER, dataset):
        raise PermissionDenied("Audit pages are for reviewers of the dataset.")


def get_audit_dataset(user, name: str) -> Dataset:
    dataset = get_dataset(user, name)
    require_reviewer(user, dataset)
    return dataset


def get_run(user, run_id: int) -> MatchRun:
    run = (
        MatchRun.objects.select_related("critic", "dataset")
        .filter(pk=run_id, dataset__in=visible_datasets(user))
        .first()
    )
    if run is None:
        raise Http404("No such run.")
    require_reviewer(user, run.dataset_id)
    return run


def get_result(user, result_id: int) -> MatchResult:
    result = (
        MatchResult.objects.select_related(
            "run__critic", "run__dataset", "pair", "judgment", "revision", "audit_verdict"
        )
        .filter(pk=result_id, run__dataset__in=visible_datasets(user))
        .first()
    )
    if result is None:
        raise Http404("No such case.")
    require_reviewer(user, result.run.dataset_id)
    return result


def get_genrm_run(user, run_id: int) -> GenrmRun:
    run = (
        GenrmRun.objects.select_related("critic", "dataset", "endpoint", "chained_run")
        .filter(pk=run_id, dataset__in=visible_datasets(user))
        .first()
    )
    if run is None:
        raise Http404("No such run.")
    require_reviewer(user, run.dataset_id)
    return run
