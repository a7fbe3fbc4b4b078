"""Roles are Django groups; dataset access is membership."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from annotate.access import ANNOTATOR, REVIEWER
from annotate.models import Dataset


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
        dataset.members.add(user)
    return user
