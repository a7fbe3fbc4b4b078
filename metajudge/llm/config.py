"""The client configuration of a run's judge endpoint: the row's fields over the settings."""

from __future__ import annotations

from django.conf import settings

from metajudge.llm.client import EndpointConfig


def endpoint_config(run) -> EndpointConfig:
    e = run.endpoint
    return EndpointConfig(
        base_url=e.base_url or settings.OPENAI_BASE_URL,
        model=e.model,
        api_key_env=e.api_key_env,
        max_concurrency=e.max_concurrency,
        requests_per_minute=e.requests_per_minute,
        temperature=e.temperature,
        max_tokens=e.max_tokens,
        timeout=e.timeout,
        limits_url=settings.LLM_LIMITS_URL,
        limits_key=f"endpoint {e.pk} {e.base_url} {e.model}",
        max_attempts=settings.METAJUDGE_MAX_ATTEMPTS,
        backoff_base=settings.METAJUDGE_BACKOFF_BASE,
        key_env_allowed=tuple(settings.JUDGE_API_KEY_ENV_ALLOWED),
    )
