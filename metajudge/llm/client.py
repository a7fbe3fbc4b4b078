"""Calls to an OpenAI-compatible endpoint: bounded concurrency, a rate limit, and retries
that honour Retry-After on 429, back off with jitter on 5xx and timeouts, and never repeat
other 4xx answers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
from dataclasses import dataclass

import httpx
import openai

from metajudge.llm import egress, keys
from metajudge.llm.limits import SharedLimits

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class EndpointConfig:
    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    max_concurrency: int = 16
    requests_per_minute: int = 0
    temperature: float = 0.6  # the reference inference script's defaults
    max_tokens: int = 8192
    timeout: float = 120.0
    # Redis URL for limits shared by every worker ("" keeps them in this process) and the key
    # that names the endpoint there (default: base URL and model).
    limits_url: str = ""
    limits_key: str = ""
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 20.0
    key_env_allowed: tuple[str, ...] = keys.DEFAULT_ALLOWED

    def key_refusal(self) -> str | None:
        return keys.refusal(self.api_key_env, self.key_env_allowed)

    def api_key(self) -> str:
        # The key never leaves the environment; a local server accepts any non-empty value.
        if self.key_refusal():
            return "not-set"  # never send a variable the allow-list refuses
        keys.register(self.api_key_env)
        return os.environ.get(self.api_key_env, "") or "not-set"


@dataclass
class CallResult:
    text: str | None
    error: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0
    latency_ms: int = 0


class RateLimiter:
    """Evenly spaced starts (requests per minute) plus a shared pause after a 429."""

    def __init__(self, per_minute: int) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.next_start = 0.0
        self.paused_until = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_start, self.paused_until)
            self.next_start = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)


CONNECTIONS_PER_CLIENT = 8
_NO_GATE = contextlib.nullcontext()


@dataclass(frozen=True)
class _Lane:
    """One SDK client, the egress client it was given, and that client's transport."""

    sdk: openai.AsyncOpenAI
    http: httpx.AsyncClient
    transport: egress.EgressAiohttpTransport


class JudgeClient:
    """One per endpoint per event loop.

    The calls are spread over several SDK clients of at most CONNECTIONS_PER_CLIENT connections
    each: the HTTP pool scans all of its connections on every request, so one pool of 64 costs
    more CPU per call than eight pools of 8."""

    def __init__(self, config: EndpointConfig, concurrency: int | None = None) -> None:
        self.config = config
        width = concurrency or config.max_concurrency
        shards = max(1, -(-width // CONNECTIONS_PER_CLIENT))
        self.lanes = [self._lane(-(-width // shards)) for _ in range(shards)]
        self.turn = 0
        self.slots = asyncio.Semaphore(width)
        self.shared = _shared_limits(config)
        # With shared limits the schedule lives in Redis; this limiter then only keeps the
        # process's own pause after a 429.
        self.limiter = RateLimiter(0 if self.shared else config.requests_per_minute)
        self.key_problem = config.key_refusal()
        sdk = self.lanes[0].sdk
        # What the SDK sends with every request (content type, user agent, platform headers and
        # its auth), read once; a header the SDK leaves out is an Omit, not a string.
        self.url = str(sdk.base_url.join("chat/completions"))
        sent = {**sdk.default_headers, **sdk.auth_headers}
        self.headers = {k: v for k, v in sent.items() if isinstance(v, str)}

    def _lane(self, connections: int) -> _Lane:
        # The egress transport: every connection checked, redirects never followed.
        transport = egress.async_transport(connections=connections)
        http = egress.async_client(timeout=self.config.timeout, transport=transport)
        sdk = openai.AsyncOpenAI(
            base_url=self.config.base_url,
            api_key=self.config.api_key(),
            max_retries=0,
            timeout=self.config.timeout,
            http_client=http,
        )
        return _Lane(sdk, http, transport)

    def _next_lane(self) -> _Lane:
        self.turn = (self.turn + 1) % len(self.lanes)
        return self.lanes[self.turn]

    async def close(self) -> None:
        for lane in self.lanes:
            await lane.sdk.close()
        if self.shared:
            await self.shared.close()

    async def complete(self, prompt: str) -> CallResult:
        result = CallResult(text=None)
        if self.key_problem:
            result.error = self.key_problem  # refused before any call: nothing was sent
            return result
        started = time.monotonic()
        for attempt in range(1, self.config.max_attempts + 1):
            result.attempts = attempt
            delay = await self._attempt(prompt, result)
            if delay is None:
                break
            if attempt < self.config.max_attempts:
                await asyncio.sleep(delay)
        result.latency_ms = int((time.monotonic() - started) * 1000)
        return result

    async def _attempt(self, prompt: str, result: CallResult) -> float | None:
        """One call. Returns a delay before retrying, or None when done (success or final)."""
        await self.limiter.wait()
        try:
            async with self.slots, self.shared.slot() if self.shared else _NO_GATE:
                body = await self._post(self._next_lane(), prompt)
        except openai.APIStatusError as exc:
            return self._status_error(exc, result)
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            if isinstance(exc.__cause__, egress.EgressRefused):
                result.error = f"egress refused: {_safe(str(exc.__cause__))}"
                return None  # policy, not a passing fault
            result.error = f"{type(exc).__name__}: {_safe(str(exc))}"
            return self._backoff(result.attempts)
        return self._read(body, result)

    async def _post(self, lane: _Lane, prompt: str):
        """One POST of a chat completion; the parsed JSON body, or the text when it is not JSON.

        The request is the SDK's (its URL, headers, timeout and no retries) and so are the
        errors (APIStatusError and its kinds, APITimeoutError, APIConnectionError, each with the
        cause it wraps), but it goes straight to the egress transport: the SDK's per-request
        option copies, body-replay checks and auth-refresh layers, and httpx's cookie, auth and
        redirect handling (none of which a judge call uses: redirects are never followed), were
        about half of the event loop's CPU per call, which is what bounds calls in flight."""
        payload = {
            "model": self.config.model,
            "temperature": self.config.temperature,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": self.config.max_tokens,
        }
        request = lane.http.build_request(
            "POST", self.url, headers=self.headers, content=json.dumps(payload).encode()
        )
        try:
            response = await lane.transport.handle_async_request(request)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise openai.APITimeoutError(request=request) from exc
        except Exception as exc:  # as the SDK: any other failure to send or read
            raise openai.APIConnectionError(request=request) from exc
        if not response.is_success:
            raise lane.sdk._make_status_error_from_response(response)  # noqa: SLF001 the SDK's kinds
        try:
            return json.loads(content)
        except ValueError:
            return content.decode("utf-8", "replace")

    def _status_error(self, exc: openai.APIStatusError, result: CallResult) -> float | None:
        result.error = f"HTTP {exc.status_code}: {_safe(_message(exc))}"
        if exc.status_code not in RETRYABLE_STATUS:
            return None
        if exc.status_code == 429:
            wait = _retry_after(exc) or self._backoff(result.attempts)
            self.limiter.pause(wait)
            if self.shared:
                self.shared.pause(wait)
            return wait
        return self._backoff(result.attempts)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.config.backoff_cap, self.config.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not crypto

    @staticmethod
    def _read(body, result: CallResult) -> float | None:
        """Take the text and usage from a chat completion's JSON; anything else is an error
        that names what was wrong (an untrusted server may send any shape)."""
        if not isinstance(body, dict):
            result.error = "malformed answer: the body is not a JSON object"
            return None
        usage = body.get("usage")
        if isinstance(usage, dict):
            result.prompt_tokens += _count(usage.get("prompt_tokens"))
            result.completion_tokens += _count(usage.get("completion_tokens"))
        choices = body.get("choices")
        if not choices or not isinstance(choices, list):
            result.error = "empty answer: no choices"
            return None
        message = choices[0].get("message") if isinstance(choices[0], dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if content is None:
            result.error = "empty answer: no content"
            return None
        if not isinstance(content, str):
            result.error = "malformed answer: the content is not text"
            return None
        result.text, result.error = content, ""
        return None


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _shared_limits(config: EndpointConfig) -> SharedLimits | None:
    if not config.limits_url:
        return None
    return SharedLimits(
        config.limits_url,
        config.limits_key or f"{config.base_url}|{config.model}",
        max_concurrency=config.max_concurrency,
        requests_per_minute=config.requests_per_minute,
        # Renewed while the process lives; a worker killed holding slots frees them after this.
        lease_s=float(os.environ.get("LLM_LIMITS_LEASE", "15")),
    )


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return min(max(float(value), 0.0), 300.0) if value is not None else None
    except ValueError:
        return None


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body, dict) else {}
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or exc.message)[:300]


def _safe(text: str) -> str:
    """Error texts are stored and shown: never let a key that a server echoed get through."""
    return keys.redact(text)[:500]
