"""Personas: an annotator and a reviewer of the `alpha` dataset, an outsider, a superuser."""

import pytest

from annotate.access import ANNOTATOR, REVIEWER
from annotate.services.accounts import roles_ensure, user_ensure
from tests.factories import DatasetFactory


@pytest.fixture
def alpha(db):
    return DatasetFactory(name="alpha")


@pytest.fixture
def beta(db):
    return DatasetFactory(name="beta")


@pytest.fixture
def annotator(alpha):
    roles_ensure()
    return user_ensure(username="ann", password="pw-ann-1234", role=ANNOTATOR, datasets=[alpha])


@pytest.fixture
def reviewer(alpha):
    roles_ensure()
    return user_ensure(username="rev", password="pw-rev-1234", role=REVIEWER, datasets=[alpha])


@pytest.fixture
def outsider(beta):
    """An annotator of another dataset: must see nothing of alpha."""
    roles_ensure()
    return user_ensure(username="out", password="pw-out-1234", role=ANNOTATOR, datasets=[beta])


@pytest.fixture
def superuser(db):
    return user_ensure(username="root", password="pw-root-1234", superuser=True)


def _client_for(client_class, user):
    client = client_class()
    client.force_login(user)
    return client


@pytest.fixture
def as_annotator(client, annotator):
    client.force_login(annotator)
    return client


@pytest.fixture
def as_reviewer(reviewer):
    from django.test import Client

    return _client_for(Client, reviewer)


@pytest.fixture
def as_outsider(outsider):
    from django.test import Client

    return _client_for(Client, outsider)


@pytest.fixture
def as_superuser(superuser):
    from django.test import Client

    return _client_for(Client, superuser)
