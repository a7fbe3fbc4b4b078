"""Judge endpoints: superusers only, no SSRF toward link-local or metadata addresses."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from metajudge.models import JudgeEndpoint
from metajudge.services.endpoints import endpoint_save, endpoint_validate_url


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/v1",
        "http://metadata.google.internal/computeMetadata/v1/",
        "file:///etc/passwd",
        "ftp://example.com/",
        "http://0.0.0.0:8000/v1",
        "http:///nohost",
    ],
)
def test_refused_base_urls(url):
    with pytest.raises(ValidationError):
        endpoint_validate_url(url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/v1", "https://api.openai.com/v1", "http://localhost:11434/v1"]
)
def test_allowed_base_urls(url):
    endpoint_validate_url(url)


def test_only_superusers_save_endpoints(reviewer, superuser):
    endpoint = JudgeEndpoint(name="e", model="m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(PermissionDenied):
        endpoint_save(user=reviewer, endpoint=endpoint)
    assert endpoint_save(user=superuser, endpoint=endpoint).pk


def test_admin_pages_for_endpoints(as_superuser, as_reviewer, reviewer):
    reviewer.is_staff = True
    reviewer.save()
    assert as_reviewer.get("/admin/metajudge/judgeendpoint/").status_code == 403
    assert as_superuser.get("/admin/metajudge/judgeendpoint/").status_code == 200
    response = as_superuser.post(
        "/admin/metajudge/judgeendpoint/add/",
        {
            "name": "evil",
            "base_url": "http://169.254.169.254/v1",
            "model": "m",
            "api_key_env": "OPENAI_API_KEY",
            "max_concurrency": 4,
            "requests_per_minute": 0,
            "temperature": 0,
            "max_tokens": 100,
            "timeout": 10,
        },
    )
    assert response.status_code == 200 and b"refused" in response.content
    assert not JudgeEndpoint.objects.filter(name="evil").exists()


def test_api_key_never_in_error_text(monkeypatch, demo, llm_server):
    """A server that echoes the key back: the stored error must not contain it."""
    import io

    from django.core.management import call_command

    from metajudge.models import MatchResult

    secret = "sk-test-SECRET-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    llm_server.set_faults("400")
    with pytest.raises(Exception):  # noqa: B017 - every sample fails; the command exits 1
        call_command(
            "run_metajudge",
            dataset="demo",
            critic="careful-judge",
            judge_model="m",
            base_url=llm_server.base_url,
            sync=True,
            stdout=io.StringIO(),
        )
    from metajudge.llm.client import _safe

    assert _safe(f"401: bad key {secret} given") == "401: bad key *** given"  # if echoed
    assert not MatchResult.objects.filter(error__contains=secret).exists()
    assert not JudgeEndpoint.objects.filter(api_key_env__contains="sk-").exists()
