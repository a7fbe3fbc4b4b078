"""Only allowed environment variables hold a judge key; key values never reach errors, logs or
pages."""

import asyncio
import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from annotate.access import REVIEWER
from metajudge.llm import keys
from metajudge.llm.client import EndpointConfig, JudgeClient
from metajudge.llm.config import endpoint_config
from metajudge.models import JudgeEndpoint, MatchResult
from metajudge.services.endpoints import endpoint_save
from tests.factories import join

SECRET = "s3cr3t-judge-value-0042"


def endpoint(name: str, key_env: str) -> JudgeEndpoint:
    url = "http://127.0.0.1:9/v1"
    return JudgeEndpoint(name=name, model="m", base_url=url, api_key_env=key_env)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "CACHE_URL", "HOME", "PATH"])
def test_app_secrets_and_other_variables_are_refused(name, superuser):
    with pytest.raises(ValidationError) as caught:
        endpoint(f"e-{name}", name).full_clean()
    assert "api_key_env" in caught.value.message_dict
    with pytest.raises(ValidationError):
        endpoint_save(user=superuser, endpoint=endpoint(f"f-{name}", name))
    assert not JudgeEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "VLLM_API_KEY", "TOGETHER_API_KEY"])
def test_api_key_names_are_allowed_by_default(name, superuser):
    assert endpoint_save(user=superuser, endpoint=endpoint(f"e-{name}", name)).pk


@pytest.mark.django_db
def test_the_setting_replaces_the_allow_list(settings, superuser):
    settings.JUDGE_API_KEY_ENV_ALLOWED = ("JUDGE_KEY_*",)
    assert endpoint_save(user=superuser, endpoint=endpoint("ok", "JUDGE_KEY_PROD")).pk
    with pytest.raises(ValidationError):
        endpoint("no", "OPENAI_API_KEY").full_clean()
    settings.JUDGE_API_KEY_ENV_ALLOWED = ("*",)  # even "anything" never allows the app's secret
    with pytest.raises(ValidationError):
        endpoint("no", "SECRET_KEY").full_clean()


def test_admin_refuses_secret_key(as_superuser):
    response = as_superuser.post(
        "/admin/metajudge/judgeendpoint/add/",
        {
            "name": "leak",
            "base_url": "http://127.0.0.1:9/v1",
            "model": "m",
            "api_key_env": "SECRET_KEY",
            "max_concurrency": 4,
            "requests_per_minute": 0,
            "temperature": 0,
            "max_tokens": 100,
            "timeout": 10,
        },
    )
    assert response.status_code == 200 and b"may not hold a judge API key" in response.content
    assert not JudgeEndpoint.objects.filter(name="leak").exists()


@pytest.fixture
def echo_server():
    """Answers 400 with the Authorization header in the message; records what it was sent."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            auth = self.headers.get("Authorization", "")
            seen.append(auth)
            body = json.dumps({"error": {"message": f"invalid key {auth}"}}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    server.shutdown()
    server.server_close()


def call(config: EndpointConfig):
    async def go():
        client = JudgeClient(config)
        try:
            return await client.complete("hello")
        finally:
            await client.close()

    return asyncio.run(go())


def test_a_refused_variable_is_never_sent(echo_server, monkeypatch, settings):
    """An endpoint row saved before the allow-list existed: the call is refused, nothing sent."""
    url, seen = echo_server
    monkeypatch.setenv("SECRET_KEY", SECRET)
    row = JudgeEndpoint(name="old", model="m", base_url=url, api_key_env="SECRET_KEY")
    config = endpoint_config(SimpleNamespace(endpoint=row))
    result = call(config)
    assert result.text is None and "may not hold a judge API key" in result.error
    assert seen == [] and SECRET not in result.error


def test_a_configured_key_is_redacted_by_value(echo_server, monkeypatch, settings):
    """The key's variable matches no fixed name pattern: it is redacted because it is used."""
    url, seen = echo_server
    settings.JUDGE_API_KEY_ENV_ALLOWED = ("JUDGE_KEY_*",)
    monkeypatch.setenv("JUDGE_KEY_PROD", SECRET)
    row = JudgeEndpoint(name="prod", model="m", base_url=url, api_key_env="JUDGE_KEY_PROD")
    result = call(endpoint_config(SimpleNamespace(endpoint=row)))
    assert seen == [f"Bearer {SECRET}"]  # the server was sent the key and echoed it
    assert result.error.startswith("HTTP 400") and SECRET not in result.error
    assert keys.MASK in result.error


def test_log_lines_lose_key_values(monkeypatch):
    monkeypatch.setenv("VLLM_API_KEY", SECRET)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(keys.RedactKeysFilter())
    log = logging.getLogger("tests.keys")
    log.addHandler(handler)
    try:
        log.warning("calling with %s", SECRET)
        try:
            raise RuntimeError(f"server said {SECRET}")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "calling with ***" in text and "server said ***" in text
    assert SECRET not in text


def test_the_app_log_handler_redacts():
    filters = [f for h in logging.getLogger().handlers for f in h.filters]
    assert any(isinstance(f, keys.RedactKeysFilter) for f in filters)


@pytest.mark.django_db
def test_case_page_hides_a_key_in_a_stored_error(audited_case, as_reviewer, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    MatchResult.objects.filter(pk=audited_case.pk).update(error=f"HTTP 401: bad key {SECRET}")
    page = as_reviewer.get(f"/audit/cases/{audited_case.pk}/").content.decode()
    assert "bad key ***" in page and SECRET not in page


@pytest.fixture
def audited_case(demo, reviewer):
    from tests.factories import score_offline

    join(demo, reviewer, role=REVIEWER)
    score_offline("careful-judge", "demo")
    return MatchResult.objects.filter(run__dataset=demo).first()
