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


@pytest.fixture
def llm_server():
    """A loopback OpenAI-compatible server answering MetaJudge prompts (faults on demand)."""
    from tests.llm_server import LLMServer

    with LLMServer(retry_after=0.05) as server:
        yield server


@pytest.fixture
def fast_retries(settings):
    """Keep retry back-off short so fault tests run in seconds."""
    settings.METAJUDGE_BACKOFF_BASE = 0.01
    settings.METAJUDGE_MAX_ATTEMPTS = 4


@pytest.fixture
def demo(db):
    """The bundled demo dataset (32 pairs, critics careful-judge and surface-judge)."""
    from annotate.services.imports import import_pairs
    from metajudge.services.demo import DEMO_FILE

    with DEMO_FILE.open("rb") as stream:
        import_pairs(stream=stream, dataset_name="demo")
    from annotate.models import Dataset

    return Dataset.objects.get(name="demo")


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which `asyncio.run` in later tests would trip on."""
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (cached counts, throttles, figures)."""
    from django.core.cache import cache

    cache.clear()
    yield
