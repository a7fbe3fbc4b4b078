"""Judge endpoints: only superusers configure them, and never toward internal metadata."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlparse

from django.core.exceptions import PermissionDenied, ValidationError

from metajudge.models import JudgeEndpoint

_BLOCKED_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


def endpoint_validate_url(url: str) -> None:
    """Refuse link-local and cloud-metadata targets (SSRF). Loopback stays allowed for
    local servers such as vLLM or Ollama on the same machine."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValidationError(f"base URL must be http(s)://host/...: {url!r}")
    host = parsed.hostname.lower().rstrip(".")
    if host in _BLOCKED_HOSTS:
        raise ValidationError(f"base URL host {host} is a cloud metadata service")
    for address in _addresses(host):
        if address.is_link_local or address.is_multicast or address.is_unspecified:
            raise ValidationError(f"base URL host {host} resolves to {address}, which is refused")


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return []  # unresolvable now: the call will fail later with a clear error
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def endpoint_save(*, user, endpoint: JudgeEndpoint) -> JudgeEndpoint:
    if not user.is_superuser:
        raise PermissionDenied("Only superusers configure judge endpoints.")
    if endpoint.base_url:
        endpoint_validate_url(endpoint.base_url)
    endpoint.full_clean()
    endpoint.save()
    return endpoint
