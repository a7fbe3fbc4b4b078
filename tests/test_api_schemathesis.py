"""schemathesis generates requests from the OpenAPI schema: no endpoint answers with a 5xx."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token

from annotate.services.accounts import user_ensure
from tests.factories import score_offline


@pytest.fixture
def api_schema(db):
    """The app over WSGI, in the test's transaction (as Django's test client does, the
    per-request connection cleanup is held off so the test data stays visible)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(demo):
    score_offline("careful-judge", "demo")
    root = user_ensure(username="fuzzer", password="pw-fuzz-1234", superuser=True)
    return Token.objects.get_or_create(user=root)[0].key


def test_no_server_errors(api_schema, token):
    """Every operation of the schema, 40 generated requests each, as a superuser."""
    checked, calls = [], []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(case=operation.as_strategy())
        def no_5xx(case):
            response = case.call(headers={"Authorization": f"Token {token}"})
            calls.append(response.status_code)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
            )

        no_5xx()
        checked.append(operation.label)
    assert len(checked) >= 9, checked  # every operation of the API was exercised
    assert len(calls) >= 10 * len(checked)  # and with many generated requests each
