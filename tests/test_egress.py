"""Egress policy at connect time: mapped addresses, redirects and DNS rebinding are refused."""

import asyncio
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from django.core.exceptions import ValidationError

from metajudge.llm import egress
from metajudge.llm.client import EndpointConfig, JudgeClient
from metajudge.services.endpoints import endpoint_validate_url

METADATA = "169.254.169.254"


def ask(base_url: str, **overrides) -> object:
    config = EndpointConfig(
        base_url=base_url, model="m", timeout=3.0, max_attempts=3, backoff_base=0.01, **overrides
    )

    async def go():
        client = JudgeClient(config)
        try:
            return await client.complete("hello")
        finally:
            await client.close()

    return asyncio.run(go())


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/v1",
        "http://[64:ff9b::a9fe:a9fe]/v1",
        "http://[2002:a9fe:a9fe::1]/v1",
        "http://[::169.254.169.254]/v1",
        "http://[fd00:ec2::254]/latest/",
        "http://2852039166/latest/",  # 169.254.169.254 as one decimal number
    ],
)
def test_disguised_metadata_addresses_are_refused_on_save(url):
    with pytest.raises(ValidationError):
        endpoint_validate_url(url)


@pytest.mark.parametrize("url", ["http://[::ffff:169.254.169.254]/v1", "http://[::ffff:0:0]/v1"])
def test_disguised_addresses_are_refused_at_call_time(url):
    result = ask(url)
    assert result.text is None
    assert "refused" in result.error
    assert result.attempts == 1  # a refusal is final, never retried


def test_mapped_loopback_stays_allowed(llm_server):
    port = llm_server.base_url.split(":")[2].split("/")[0]
    assert egress.check_host("::ffff:127.0.0.1") == "::ffff:7f00:1"
    assert ask(f"http://127.0.0.1:{port}/v1").text is not None


@pytest.fixture
def fake_dns(monkeypatch):
    """Names in `table` resolve to what it says; the answer can change between calls."""
    table: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (table[host], port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


def test_name_resolving_to_metadata_is_refused(fake_dns):
    fake_dns["judge.example"] = METADATA
    with pytest.raises(ValidationError):
        endpoint_validate_url("http://judge.example/v1")
    result = ask("http://judge.example/v1")
    assert "resolves to 169.254.169.254" in result.error and result.attempts == 1


def test_dns_rebinding_after_save_is_refused_at_connect(fake_dns, llm_server):
    """The name was fine when saved and for the first call; then it points at the metadata
    service. The connection must follow the check, not a second lookup."""
    port = llm_server.base_url.split(":")[2].split("/")[0]
    fake_dns["judge.example"] = "127.0.0.1"
    endpoint_validate_url(f"http://judge.example:{port}/v1")
    assert ask(f"http://judge.example:{port}/v1").text is not None
    fake_dns["judge.example"] = METADATA
    result = ask(f"http://judge.example:{port}/v1")
    assert result.text is None and "refused" in result.error


@pytest.fixture
def redirector():
    """A loopback server that answers every request with a redirect to the metadata service."""

    class Handler(BaseHTTPRequestHandler):
        def _redirect(self):
            self.send_response(302)
            self.send_header("Location", f"http://{METADATA}/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _redirect

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_judge_client_does_not_follow_redirects(redirector, monkeypatch):
    checked = []
    real = egress.check_host
    monkeypatch.setattr(egress, "check_host", lambda h, p=None: checked.append(h) or real(h, p))
    result = ask(f"{redirector}/v1")
    assert result.text is None and result.error.startswith("HTTP 302")
    assert METADATA not in checked


def test_transport_refuses_a_followed_redirect(redirector):
    """Even a client told to follow redirects cannot reach the metadata address."""
    with httpx.Client(transport=egress.EgressSyncTransport(), follow_redirects=True) as client:
        with pytest.raises(egress.EgressRefused):
            client.get(redirector)
    with egress.sync_client(timeout=3) as client:
        assert client.get(redirector).status_code == 302


def test_each_checked_address_is_tried_in_turn(fake_dns, llm_server, monkeypatch):
    """A name with two allowed addresses, the first of which refuses the connection (as
    localhost's ::1 does for a server on 127.0.0.1): the second is used."""
    port = int(llm_server.base_url.split(":")[2].split("/")[0])
    real = socket.getaddrinfo

    def two(host, p, *args, **kwargs):
        if host == "judge.example":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", p)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", p)),
            ]
        return real(host, p, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two)
    assert egress.checked_addresses("judge.example", port) == ["127.0.0.2", "127.0.0.1"]
    assert ask(f"http://judge.example:{port}/v1").text is not None
    with egress.sync_client(timeout=3) as client:
        assert client.get(f"http://judge.example:{port}/v1/models").status_code == 200
