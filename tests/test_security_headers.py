"""CSP with nonces and no eval; proxy headers believed only behind a configured proxy."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def test_pages_carry_a_strict_policy(db):
    response = Client().get("/accounts/login/")
    rules = policy(response)
    assert rules["default-src"] == ["'self'"]
    assert rules["object-src"] == ["'none'"] and rules["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in rules[directive]
        assert "'unsafe-eval'" not in rules[directive]
        assert all(not s.startswith(("http", "*")) for s in rules[directive])  # no CDN


def test_htmx_eval_is_off(as_annotator):
    html = as_annotator.get("/annotate/").content.decode()
    assert """<meta name="htmx-config" content='{"allowEval": false""" in html


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style([^>]*)>", re.IGNORECASE)


def assert_nothing_inline_without_the_nonce(response):
    html = response.content.decode()
    nonces = [s[len("'nonce-") : -1] for s in policy(response)["script-src"] if "nonce" in s]
    for attributes in INLINE_SCRIPT.findall(html) + INLINE_STYLE.findall(html):
        if 'type="application/json"' in attributes:
            continue  # data, never run
        assert nonces and f'nonce="{nonces[0]}"' in attributes, attributes
    assert not re.search(r"\sstyle=", html), "a style attribute the CSP would block"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler the CSP would block"


@pytest.mark.django_db
def test_app_pages_have_no_inline_code_the_policy_blocks(as_annotator, as_reviewer, alpha):
    for client, url in (
        (Client(), "/accounts/login/"),
        (as_annotator, "/annotate/"),
        (as_reviewer, "/audit/"),
        (Client(), "/api/docs/"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        if url == "/api/docs/":
            html = response.content.decode()
            nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
            assert f'<script nonce="{nonce}">' in html and f'<style nonce="{nonce}">' in html
            continue
        assert_nothing_inline_without_the_nonce(response)


# --- proxies --------------------------------------------------------------------------------


def production_setting(expression: str, **env) -> str:
    base = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "RATIONALE_VAR_DIR": os.environ.get("RATIONALE_VAR_DIR", "/tmp"),
    }
    code = f"import config.settings as s; print(({expression}))"
    proc = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_forwarded_proto_is_believed_only_behind_a_proxy():
    expr = "getattr(s, 'SECURE_PROXY_SSL_HEADER', None), s.REST_FRAMEWORK['NUM_PROXIES']"
    assert production_setting(expr) == "(None, 0)"
    assert production_setting(expr, TRUSTED_PROXY_COUNT="1") == (
        "(('HTTP_X_FORWARDED_PROTO', 'https'), 1)"
    )


def fail_login(client, username: str, forwarded: str, **extra):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": "wrong"},
        HTTP_X_FORWARDED_FOR=forwarded,
        **extra,
    )


def test_without_a_proxy_forwarded_for_cannot_dodge_the_brake(annotator, settings):
    cache.clear()
    settings.LOGIN_MAX_FAILURES = 3
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client()
    for n in range(3):
        fail_login(client, f"nobody{n}", f"10.0.0.{n}")  # a new "address" every time
    blocked = fail_login(client, "someone", "10.9.9.9")
    assert blocked.status_code == 429


def test_behind_a_proxy_the_brake_is_per_real_client(annotator, settings):
    """One proxy in front: clients share REMOTE_ADDR; the brake must tell them apart, and a
    client that writes its own X-Forwarded-For entry still counts as itself."""
    cache.clear()
    settings.LOGIN_MAX_FAILURES = 3
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    for n in range(3):
        # The client forges a leading entry; our proxy appended the real one.
        fail_login(client, f"nobody{n}", f"192.0.2.{n}, 203.0.113.7")
    assert fail_login(client, "x", "203.0.113.7").status_code == 429
    other = client.post(
        "/accounts/login/",
        {"username": "ann", "password": "pw-ann-1234"},
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )
    assert other.status_code == 302  # another client behind the same proxy logs in
