"""Judge endpoints: only superusers configure them, and never toward internal metadata."""

from __future__ import annotations

from urllib.parse import urlparse

from django.core.exceptions import PermissionDenied, ValidationError

from metajudge.llm import egress
from metajudge.models import JudgeEndpoint


def endpoint_validate_url(url: str) -> None:
    """Refuse link-local and cloud-metadata targets (SSRF), with the same policy that every
    connection meets (metajudge/llm/egress.py). Loopback stays allowed for local servers such as
    vLLM or Ollama on the same machine."""
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if parsed.scheme not in ("http", "https") or not parsed.hostname or port == -1:
        raise ValidationError(f"base URL must be http(s)://host[:port]/...: {url!r}")
    try:
        egress.check_host(parsed.hostname, port)
    except egress.EgressRefused as exc:
        raise ValidationError(f"base URL {exc}") from exc
    except egress.ConnectError:
        pass  # unresolvable now: the call will fail later with a clear error


def endpoint_save(*, user, endpoint: JudgeEndpoint) -> JudgeEndpoint:
    if not user.is_superuser:
        raise PermissionDenied("Only superusers configure judge endpoints.")
    if endpoint.base_url:
        endpoint_validate_url(endpoint.base_url)
    endpoint.full_clean()
    endpoint.save()
    return endpoint
