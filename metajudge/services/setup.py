"""Defaults that a fresh install needs: prompt templates and an endpoint from the environment."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from metajudge.method.prompts import DEFAULTS
from metajudge.models import JudgeEndpoint, PromptTemplate
from metajudge.services.endpoints import endpoint_validate_url


def template_default(kind: str) -> PromptTemplate:
    """The newest template of that kind, creating the built-in one on first use."""
    found = PromptTemplate.objects.filter(kind=kind).order_by("-created_at", "-version").first()
    if found:
        return found
    for (default_kind, name), text in DEFAULTS.items():
        if default_kind == kind:
            return PromptTemplate.objects.get_or_create(
                name=name, version=1, defaults={"kind": kind, "text": text}
            )[0]
    raise LookupError(f"no template of kind {kind!r}")


@transaction.atomic
def endpoint_for(
    *, model: str, base_url: str = "", concurrency: int | None = None
) -> JudgeEndpoint:
    """Find or create the endpoint for a model at a base URL (default OPENAI_BASE_URL)."""
    url = base_url or settings.OPENAI_BASE_URL
    if url:
        endpoint_validate_url(url)
    endpoint, _ = JudgeEndpoint.objects.get_or_create(
        base_url=url, model=model, defaults={"name": f"{model} @ {url or 'default'}"[:100]}
    )
    if concurrency and endpoint.max_concurrency != concurrency:
        endpoint.max_concurrency = concurrency
        endpoint.save(update_fields=["max_concurrency"])
    return endpoint
