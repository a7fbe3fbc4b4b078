"""A role belongs to a dataset membership (annotator or reviewer of that dataset). The global
groups stay as a label in the admin; no access check reads them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from annotate.access import ANNOTATOR, REVIEWER
from annotate.models import Dataset, DatasetMembership


def roles_ensure() -> None:
    for name in (ANNOTATOR, REVIEWER):
        Group.objects.get_or_create(name=name)


@transaction.atomic
def user_ensure(
    *,
    username: str,
    password: str,
    role: str | None = None,
    superuser: bool = False,
    datasets: list[Dataset] = (),
):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_password(password)
    user.is_superuser = user.is_staff = superuser
    user.save()
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    for dataset in datasets:
        membership_set(dataset=dataset, user=user, role=role or ANNOTATOR)
    return user


@transaction.atomic
def membership_set(*, dataset: Dataset, user, role: str = ANNOTATOR) -> DatasetMembership:
    """Make the user a member of the dataset with this role (or change their role there)."""
    if role not in DatasetMembership.Role.values:
        raise ValueError(f"unknown role {role!r}")
    membership, _ = DatasetMembership.objects.update_or_create(
        dataset=dataset, user=user, defaults={"role": role}
    )
    user.__dict__.pop("_dataset_roles", None)  # a cached role map is now stale
    return membership
