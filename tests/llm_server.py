"""Loopback OpenAI-compatible Chat Completions server for tests and benchmarks.

The server speaks enough HTTP/1.1 (keep-alive, Content-Length and chunked request
bodies) for the real ``openai`` client to talk to it via
``base_url="http://127.0.0.1:PORT/v1"``.  It runs an asyncio event loop in a
background thread, so hundreds of concurrent slow requests cost nothing but a
coroutine each.

Answers come from a pluggable ``responder(request_json) -> str``.  Faults are
injected from a *fault plan* (a list consumed in order, a mapping of
probabilities drawn from a seeded RNG, or a single kind applied to every
request) and an optional ``fault_for(request_json) -> str | None`` hook that
takes precedence over the plan.

Fault kinds (``FAULT_KINDS``):

* ``ok``             normal answer
* ``500`` / ``503``  JSON error body with that status
* ``429``            JSON error body plus ``Retry-After`` / ``retry-after-ms``
* ``400``            JSON error body, a non-retryable client error
* ``timeout``        no answer for ``timeout_sleep`` seconds (or until the client
                     hangs up), then the connection is closed
* ``truncated``      valid headers and Content-Length, half the body, then close
* ``empty_choices``  200 with ``"choices": []``
* ``malformed``      200 whose content breaks the judge grammars
* ``huge``           200 with a ~1 MB content string
* ``disconnect``     connection closed without any response

Run standalone for benchmarks::

    python -m tests.llm_server --port 8765 --latency 0.2 --faults '{"500": 0.05}'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import random
import re
import signal
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

__all__ = [
    "FAULT_KINDS",
    "FaultPlan",
    "LLMServer",
    "approx_tokens",
    "TrickyMetaJudge",
    "atomizer_responder",
    "atoms_key",
    "auto_responder",
    "echo_responder",
    "fail_first_attempts",
    "genrm_responder",
    "last_user_text",
    "metajudge_responder",
    "prompt_key",
]

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Responder = Callable[[JSONDict], str]
FaultHook = Callable[[JSONDict], str | None]
FaultSpec = str | int | Sequence[str | int] | Mapping[str | int, float] | None
Matcher = Callable[[list[str], list[str]], Any]

HOST = "127.0.0.1"
FAULT_KINDS: frozenset[str] = frozenset(
    {
        "ok",
        "500",
        "503",
        "429",
        "400",
        "timeout",
        "truncated",
        "empty_choices",
        "malformed",
        "huge",
        "disconnect",
    }
)
DEFAULT_MODELS: tuple[str, ...] = ("mock-judge",)
MAX_BODIES = 10_000
HUGE_CHARS = 1_000_000
MALFORMED_TEXT = "Both texts discuss related ideas; I cannot say which parts match."
_ERROR_FAULTS: dict[str, tuple[int, str]] = {
    "500": (500, "server_error"),
    "503": (503, "service_unavailable"),
    "429": (429, "rate_limit_exceeded"),
    "400": (400, "invalid_request_error"),
}
_R_LINE = re.compile(r"^R(\d+): (.*)$", re.MULTILINE)
_S_LINE = re.compile(r"^S(\d+): (.*)$", re.MULTILINE)


# --------------------------------------------------------------------------- text helpers


def content_text(content: object) -> str:
    """Flatten a message ``content`` (string or list of parts) to text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def _messages(request: JSONDict) -> list[JSONDict]:
    messages = request.get("messages")
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict)]


def last_user_text(request: JSONDict) -> str:
    """Text of the last ``user`` message, or ``""``."""
    for message in reversed(_messages(request)):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def all_text(request: JSONDict) -> str:
    """All message texts joined by newlines."""
    return "\n".join(content_text(m.get("content")) for m in _messages(request))


def approx_tokens(text: str) -> int:
    """Crude token count used for ``usage``."""
    return len(text) // 4 + 1


def prompt_key(prompt: str | JSONDict) -> str:
    """Stable key of a prompt (a request body or the last user message text)."""
    text = prompt if isinstance(prompt, str) else last_user_text(prompt)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- responders


def _numbered(pattern: re.Pattern[str], text: str) -> list[tuple[int, str]]:
    found = {int(m.group(1)): m.group(2).strip() for m in pattern.finditer(text)}
    return sorted(found.items())


@functools.cache
def _load_matcher() -> Matcher | None:
    try:
        from metajudge.method.lexical import match_atoms
    except Exception:  # missing module, or it needs Django configured
        return None
    return match_atoms


def _fallback_matches(n_human: int, n_model: int) -> list[tuple[int, float]]:
    if n_model == 0:
        return [(0, 0.0)] * n_human
    return [(i % n_model + 1, 1.0) for i in range(n_human)]


def _normalize_matches(raw: Any, n_human: int, n_model: int) -> list[tuple[int, float]]:
    """Map matcher triples to ``(1-based model position or 0, score)`` per human atom.

    Accepts 0-based indices (detected by a human index of 0; model index < 0 or
    None means "no match") or 1-based indices (model index 0 means "no match").
    """
    triples = [(int(h), -1 if m is None else int(m), float(s)) for h, m, s in raw]
    offset = 1 if any(h == 0 for h, _, _ in triples) else 0
    best: dict[int, tuple[int, float]] = {}
    for h, m, score in triples:
        pos, model_pos = h + offset, m + offset
        if not 1 <= model_pos <= n_model:
            model_pos, score = 0, 0.0
        if 1 <= pos <= n_human and (pos not in best or score > best[pos][1]):
            best[pos] = (model_pos, score)
    return [best.get(i, (0, 0.0)) for i in range(1, n_human + 1)]


def _score_atoms(human: list[str], model: list[str]) -> list[tuple[int, float]]:
    matcher = _load_matcher()
    if matcher is not None:
        try:
            return _normalize_matches(matcher(human, model), len(human), len(model))
        except Exception:
            logger.exception("offline matcher failed; using the fallback rule")
    return _fallback_matches(len(human), len(model))


def fast_metajudge_responder(request: JSONDict) -> str:
    """A grammatical MetaJudge answer by a fixed rule, at almost no CPU: for throughput
    benchmarks, where the endpoint's own work must not compete with the client's."""
    text = last_user_text(request)
    human, model = _numbered(_R_LINE, text), _numbered(_S_LINE, text)
    matches = _fallback_matches(len(human), len(model))
    lines = [
        f"- R{r}@S{model[pos - 1][0] if pos else 0}: {score:g}\n"
        for (r, _), (pos, score) in zip(human, matches, strict=True)
    ]
    return "<RESULT_START>\n" + "".join(lines) + "<RESULT_END>"


def metajudge_responder(request: JSONDict) -> str:
    """Answer a MetaJudge atom-matching prompt with a ``<RESULT_START>`` block."""
    text = last_user_text(request)
    human, model = _numbered(_R_LINE, text), _numbered(_S_LINE, text)
    matches = _score_atoms([t for _, t in human], [t for _, t in model])
    lines = []
    for (r_num, _), (model_pos, score) in zip(human, matches, strict=True):
        s_num = model[model_pos - 1][0] if model_pos else 0
        lines.append(f"- R{r_num}@S{s_num}: {round(score, 3):g}\n")
    return "<RESULT_START>\n" + "".join(lines) + "<RESULT_END>"


def genrm_responder(request: JSONDict) -> str:
    """Answer a pairwise prompt with 3 reasons and ``[[VERDICT: 1|2]]``."""
    prompt = all_text(request)
    if "Response 1" not in prompt or "Response 2" not in prompt:
        return "I need two responses (Response 1 and Response 2) to compare."
    verdict = int(hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:8], 16) % 2 + 1
    other = 3 - verdict
    return (
        "Reasoning:\n"
        f"- Response {verdict} answers the question more directly.\n"
        f"- Response {verdict} is more accurate and specific.\n"
        f"- Response {other} leaves out relevant details.\n"
        f"[[VERDICT: {verdict}]]"
    )


_RATIONALE = re.compile(r"<rationale>\n(.*)\n</rationale>", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_BULLET_MARK = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")
_ANNOTATOR = re.compile(r"^\s*Annotator \d+:\s*")
_VAGUE = re.compile(
    r"^(?:overall,?\s*)?response [12ab] is (?:clearly |much |slightly )?(?:better|worse)\b[^,;]*$",
    re.IGNORECASE,
)
ATOMIZER_MAX_ATOMS = 8


def _atomize_text(text: str) -> list[str]:
    atoms: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        line = _ANNOTATOR.sub("", _BULLET_MARK.sub("", line))
        for sentence in _SENTENCE_END.split(line.strip()):
            sentence = " ".join(sentence.split())
            key = sentence.lower().rstrip(".!?")
            vague = len(sentence.split()) < 5 or _VAGUE.match(sentence.rstrip(".!? "))
            if not sentence or vague or "verdict" in key or key in seen:
                continue
            seen.add(key)
            atoms.append(sentence)
    return atoms[:ATOMIZER_MAX_ATOMS]


def atomizer_responder(request: JSONDict) -> str:
    """Answer an atomizer prompt: split the fenced rationale into sentences, drop short or
    verdict-only ones and repeats, and list them in an ``<ATOMS_START>`` block."""
    found = _RATIONALE.search(last_user_text(request))
    atoms = _atomize_text(found.group(1)) if found else []
    return "<ATOMS_START>\n" + "".join(f"- {a}\n" for a in atoms) + "<ATOMS_END>"


def echo_responder(request: JSONDict) -> str:
    """Echo the last user message."""
    return last_user_text(request)


def auto_responder(request: JSONDict) -> str:
    """Atomizer for ``<ATOMS_START>`` prompts, MetaJudge for ``R1:`` prompts, GenRM for
    pairwise prompts, else echo."""
    text = last_user_text(request)
    if "<ATOMS_START>" in text and _RATIONALE.search(text):
        return atomizer_responder(request)
    if _R_LINE.search(text):
        return metajudge_responder(request)
    prompt = all_text(request)
    if "Response 1" in prompt and "Response 2" in prompt:
        return genrm_responder(request)
    return echo_responder(request)


def atoms_key(human: Sequence[str], model: Sequence[str]) -> str:
    """A sample's identity whatever the prompt's wording (the app's or the reference's)."""
    payload = json.dumps([[h.strip() for h in human], [m.strip() for m in model]])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class TrickyMetaJudge:
    """A MetaJudge that answers like a real, imperfect one, by a fixed rule per sample: scores
    off the five levels (0.3, 0.8...), R lines out of order on some first attempts, no result
    block on some first (or every) attempts, one line short on others. It remembers the last
    answer it gave each sample, so a test or a benchmark can score those answers itself."""

    LEVELS = ("0.3", "0.8", "0.67", "1", "0.15", "0.55", "0.9", "0")
    KINDS = ("off_level", "order_first", "break_first", "break_always", "short", "off_level")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.asked: Counter[str] = Counter()
        self.last: dict[str, str] = {}
        self.requests: list[JSONDict] = []

    def kind(self, key: str) -> str:
        return self.KINDS[int(key[:4], 16) % len(self.KINDS)]

    def __call__(self, request: JSONDict) -> str:
        text = last_user_text(request)
        human, model = _numbered(_R_LINE, text), _numbered(_S_LINE, text)
        key = atoms_key([t for _, t in human], [t for _, t in model])
        with self.lock:
            self.asked[key] += 1
            attempt = self.asked[key]
            self.requests.append(request)
        kind = self.kind(key)
        rows = [
            (r, (k % len(model)) + 1 if model and k % 3 else 0, self.LEVELS[(k + attempt) % 8])
            for k, (r, _) in enumerate(human)
        ]
        if kind == "order_first" and attempt == 1 and len(rows) > 1:
            rows = rows[::-1]
        if kind == "short" and len(rows) > 1:
            rows = rows[:-1]  # R1..Rn-1: the reference does not ask again; an error by count
        body = "".join(f"- R{r}@S{j}: {s}\n" for r, j, s in rows)
        answer = f"<think>weighing R and S</think>\n<RESULT_START>\n{body}<RESULT_END>"
        if kind == "break_always" or (kind == "break_first" and attempt == 1):
            answer = f"I would score these as follows:\n{body}"  # no result block
        with self.lock:
            self.last[key] = answer
        return answer


RESPONDERS: dict[str, Responder] = {
    "metajudge": metajudge_responder,
    "metajudge-fast": fast_metajudge_responder,
    "metajudge-tricky": TrickyMetaJudge(),
    "genrm": genrm_responder,
    "atomizer": atomizer_responder,
    "echo": echo_responder,
    "auto": auto_responder,
}


# --------------------------------------------------------------------------- faults


def _fault_kind(value: str | int) -> str:
    kind = str(value)
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
    return kind


class FaultPlan:
    """Which fault the next request gets.  Not thread-safe; the server locks it.

    ``None`` -> always ok; a kind (``"500"`` or ``500``) -> always that kind; a
    sequence -> consumed in order, then ok; a mapping kind -> probability ->
    drawn from ``random.Random(seed)``, remaining probability is ok.
    """

    def __init__(self, faults: FaultSpec = None, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._always: str = "ok"
        self._queue: deque[str] | None = None
        self._probs: list[tuple[str, float]] = []
        if isinstance(faults, str | int):
            self._always = _fault_kind(faults)
        elif isinstance(faults, Mapping):
            self._probs = self._parse_probs(faults)
        elif faults is not None:
            self._queue = deque(_fault_kind(k) for k in faults)

    @staticmethod
    def _parse_probs(faults: Mapping[str | int, float]) -> list[tuple[str, float]]:
        probs = [(_fault_kind(k), float(p)) for k, p in faults.items()]
        if any(not 0.0 <= p <= 1.0 for _, p in probs) or sum(p for _, p in probs) > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities must be in [0, 1] and sum to <= 1: {faults}")
        return probs

    @property
    def remaining(self) -> int | None:
        """Entries left in a list plan; ``None`` for other plans."""
        return None if self._queue is None else len(self._queue)

    def next(self) -> str:
        if self._queue is not None:
            return self._queue.popleft() if self._queue else "ok"
        if not self._probs:
            return self._always
        draw = self._rng.random()
        for kind, prob in self._probs:
            if draw < prob:
                return kind
            draw -= prob
        return "ok"


def fail_first_attempts(kind: str | int = "500", attempts: int = 1) -> FaultHook:
    """A ``fault_for`` hook that faults the first ``attempts`` tries of each prompt."""
    fault = _fault_kind(kind)
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def hook(request: JSONDict) -> str | None:
        key = prompt_key(request)
        with lock:
            seen[key] += 1
            return fault if seen[key] <= attempts else None

    return hook


# --------------------------------------------------------------------------- HTTP/1.1


class _ProtocolError(Exception):
    """The client sent something this server cannot parse."""


@dataclass
class _Request:
    method: str
    path: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"

    @property
    def route(self) -> str:
        path = self.path.split("?", 1)[0].rstrip("/")
        return path.removeprefix("/v1")


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise _ProtocolError(f"bad request line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in filter(None, lines[1:]):
        name, sep, value = line.partition(":")
        if not sep:
            raise _ProtocolError(f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return parts[0].upper(), parts[1], parts[2], headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise _ProtocolError("bad chunk size") from exc
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # skip trailers
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    length = headers.get("content-length", "0")
    if not length.isdigit():
        raise _ProtocolError(f"bad Content-Length {length!r}")
    return await reader.readexactly(int(length))


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Next request on the connection, or ``None`` on a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _ProtocolError("truncated request head") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise _ProtocolError("request head too large") from exc
    method, path, version, headers = _parse_head(head)
    body = await _read_body(reader, headers)
    return _Request(method, path, version, headers, body)


def _encode_head(status: int, length: int, headers: Mapping[str, str], keep_alive: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
        f"x-request-id: req_{uuid.uuid4().hex[:24]}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _error_body(status: int, kind: str, message: str) -> bytes:
    error = {
        "message": message,
        "type": kind,
        "param": None,
        "code": kind if status == 429 else None,
    }
    return json.dumps({"error": error}).encode("utf-8")


def build_completion(request: JSONDict, content: str | None) -> JSONDict:
    """A ``chat.completion`` object; ``content=None`` gives ``choices == []``."""
    n = max(1, min(16, int(request.get("n") or 1)))
    choices = [] if content is None else [_choice(i, content) for i in range(n)]
    completion_tokens = approx_tokens(content) * n if content is not None else 0
    prompt_tokens = approx_tokens(all_text(request))
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model") or DEFAULT_MODELS[0]),
        "system_fingerprint": "fp_llm_server",
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _choice(index: int, content: str) -> JSONDict:
    message = {"role": "assistant", "content": content, "refusal": None}
    return {"index": index, "message": message, "finish_reason": "stop", "logprobs": None}


def _huge_text() -> str:
    filler = "This sentence pads a deliberately huge completion. "
    return (filler * (HUGE_CHARS // len(filler) + 1))[:HUGE_CHARS]


# --------------------------------------------------------------------------- server


@dataclass
class _Stats:
    max_bodies: int = MAX_BODIES
    requests: int = 0
    completions: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_fault: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    bodies: deque[JSONDict] = field(init=False)
    # When each completion request reached the server (time.monotonic()): what a rate limit
    # is about, unlike completions, whose times carry the latency's jitter.
    arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))

    def __post_init__(self) -> None:
        self.bodies = deque(maxlen=self.max_bodies)


class LLMServer:
    """Loopback OpenAI-compatible server; see the module docstring."""

    def __init__(
        self,
        responder: Responder = metajudge_responder,
        latency: float = 0.0,
        jitter: float = 0.0,
        faults: FaultSpec = None,
        seed: int = 0,
        retry_after: float = 1,
        timeout_sleep: float = 30.0,
        *,
        port: int = 0,
        fault_for: FaultHook | None = None,
        models: Sequence[str] = DEFAULT_MODELS,
        max_bodies: int = MAX_BODIES,
    ) -> None:
        self.responder = responder
        self.retry_after = retry_after
        self.timeout_sleep = timeout_sleep
        self.models = tuple(models)
        self._seed = seed
        self._lock = threading.Lock()
        self._latency, self._jitter = float(latency), float(jitter)
        self._latency_rng = random.Random(f"latency-{seed}")
        self._plan = FaultPlan(faults, seed)
        self._fault_for = fault_for
        self._stats = _Stats(max_bodies=max_bodies)
        self._requested_port = port
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Start serving in a background thread; returns once the port is bound."""
        if self._thread is not None:
            return self
        _warm_up(self.responder)
        self._ready = threading.Event()
        self._start_error = None
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="llm-responder")
        self._thread = threading.Thread(target=self._run, name="llm-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            self._thread.join()
            self._thread = None
            raise self._start_error
        return self

    def stop(self) -> None:
        """Stop serving; in-flight handlers (even sleeping ones) are cancelled."""
        thread, loop, event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(event.set)
        thread.join(timeout=5.0)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LLMServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    # ----------------------------------------------------------------- configuration

    def set_faults(self, faults: FaultSpec = None, seed: int | None = None) -> None:
        """Replace the fault plan (see ``FaultPlan``); the hook is kept."""
        plan = FaultPlan(faults, self._seed if seed is None else seed)
        with self._lock:
            self._plan = plan

    def set_fault_hook(self, fault_for: FaultHook | None) -> None:
        """Install ``fault_for(request_json) -> kind | None``; it overrides the plan."""
        with self._lock:
            self._fault_for = fault_for

    def set_latency(self, latency: float, jitter: float | None = None) -> None:
        """Per-request delay: ``latency`` +/- uniform ``jitter`` seconds (>= 0)."""
        with self._lock:
            self._latency = float(latency)
            if jitter is not None:
                self._jitter = float(jitter)

    # ----------------------------------------------------------------- observability

    @property
    def stats(self) -> JSONDict:
        """A consistent snapshot of the counters."""
        with self._lock:
            s = self._stats
            return {
                "requests": s.requests,
                "completions": s.completions,
                "in_flight": s.in_flight,
                "max_in_flight": s.max_in_flight,
                "by_status": dict(s.by_status),
                "by_fault": dict(s.by_fault),
                "attempts": dict(s.attempts),
                "bodies": list(s.bodies),
                "arrivals": list(s.arrivals),
                "faults_remaining": self._plan.remaining,
            }

    def most_arrivals_within(self, seconds: float) -> int:
        """The most completion requests that reached the server within any `seconds`."""
        times = self.stats["arrivals"]
        best, first = 0, 0
        for last, t in enumerate(times):
            while t - times[first] >= seconds:
                first += 1
            best = max(best, last - first + 1)
        return best

    def attempts_for(self, prompt: str | JSONDict) -> int:
        """How many completion requests carried this prompt (last user message)."""
        with self._lock:
            return self._stats.attempts[prompt_key(prompt)]

    def reset_stats(self) -> None:
        with self._lock:
            in_flight = self._stats.in_flight
            self._stats = _Stats(max_bodies=self._stats.max_bodies)
            self._stats.in_flight = self._stats.max_in_flight = in_flight

    def _enter(self) -> None:
        with self._lock:
            s = self._stats
            s.requests += 1
            s.in_flight += 1
            s.max_in_flight = max(s.max_in_flight, s.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._stats.in_flight -= 1

    def _count_status(self, status: int) -> None:
        with self._lock:
            self._stats.by_status[status] += 1

    def _admit(self, request: JSONDict) -> str:
        """Record a completion request and decide its fault kind."""
        with self._lock:
            s = self._stats
            s.completions += 1
            s.arrivals.append(time.monotonic())
            s.bodies.append(request)
            s.attempts[prompt_key(request)] += 1
            hook = self._fault_for
        hooked = hook(request) if hook is not None else None
        with self._lock:
            fault = _fault_kind(hooked) if hooked is not None else self._plan.next()
            self._stats.by_fault[fault] += 1
        return fault

    def _draw_latency(self) -> float:
        with self._lock:
            if self._jitter <= 0:
                return self._latency
            return max(0.0, self._latency + self._latency_rng.uniform(-self._jitter, self._jitter))

    # ----------------------------------------------------------------- event loop

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._start_error = exc
        finally:
            loop.close()
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
            self._ready.set()

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        server = await asyncio.start_server(
            self._on_connect, HOST, self._requested_port, backlog=1024
        )
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            server.close()
            await _cancel_other_tasks()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except _ProtocolError as exc:
            writer.write(_encode_head(400, 0, {}, False))
            logger.debug("protocol error: %s", exc)
        finally:
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Handle one request; returns whether to keep the connection open."""
        request = await _read_request(reader)
        if request is None:
            return False
        self._enter()
        try:
            return await self._route(request, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            raise
        except Exception as exc:
            logger.exception("llm_server handler failed")
            message = f"mock server error: {exc}"
            return await self._send_error(writer, 500, "server_error", message, request.keep_alive)
        finally:
            self._leave()

    async def _route(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        if request.route == "/chat/completions" and request.method == "POST":
            return await self._chat(request, reader, writer)
        if request.route == "/models" and request.method == "GET":
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "llm_server"}
                for m in self.models
            ]
            body = json.dumps({"object": "list", "data": data}).encode("utf-8")
            return await self._send(writer, 200, body, request.keep_alive)
        message = f"no route for {request.method} {request.path}"
        return await self._send_error(writer, 404, "not_found", message, request.keep_alive)

    async def _chat(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        payload = _parse_payload(request.body)
        if payload is None:
            message = "body must be a JSON object with a 'messages' list"
            keep = request.keep_alive
            return await self._send_error(writer, 400, "invalid_request_error", message, keep)
        fault = self._admit(payload)
        await asyncio.sleep(self._draw_latency())
        if fault == "disconnect":
            return False
        if fault == "timeout":
            await self._hang(reader)
            return False
        if fault in _ERROR_FAULTS:
            return await self._send_fault_error(writer, fault, request.keep_alive)
        body = json.dumps(build_completion(payload, await self._content(fault, payload)))
        if fault == "truncated":
            await self._send_truncated(writer, body.encode("utf-8"))
            return False
        return await self._send(writer, 200, body.encode("utf-8"), request.keep_alive)

    async def _content(self, fault: str, payload: JSONDict) -> str | None:
        if fault == "empty_choices":
            return None
        if fault == "malformed":
            return MALFORMED_TEXT
        if fault == "huge":
            return _huge_text()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.responder, payload)

    async def _hang(self, reader: asyncio.StreamReader) -> None:
        """Sleep ``timeout_sleep`` seconds, or until the client hangs up."""
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(reader.read(1), timeout=self.timeout_sleep)

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        keep_alive: bool,
        headers: Mapping[str, str] | None = None,
    ) -> bool:
        writer.write(_encode_head(status, len(body), headers or {}, keep_alive) + body)
        await writer.drain()
        self._count_status(status)
        return keep_alive

    async def _send_error(
        self, writer: asyncio.StreamWriter, status: int, kind: str, message: str, keep_alive: bool
    ) -> bool:
        return await self._send(writer, status, _error_body(status, kind, message), keep_alive)

    async def _send_fault_error(self, writer: asyncio.StreamWriter, fault: str, keep: bool) -> bool:
        status, kind = _ERROR_FAULTS[fault]
        headers = self._retry_headers() if fault == "429" else {}
        body = _error_body(status, kind, f"injected fault {fault}")
        return await self._send(writer, status, body, keep, headers)

    def _retry_headers(self) -> dict[str, str]:
        seconds = float(self.retry_after)
        text = str(int(seconds)) if seconds.is_integer() else f"{seconds:g}"
        return {"Retry-After": text, "retry-after-ms": str(round(seconds * 1000))}

    async def _send_truncated(self, writer: asyncio.StreamWriter, body: bytes) -> None:
        writer.write(_encode_head(200, len(body), {}, True) + body[: len(body) // 2])
        await writer.drain()


def _warm_up(responder: Responder) -> None:
    """Pay the offline matcher's one-off import and cache cost before timing starts."""
    if responder in (metajudge_responder, auto_responder):
        metajudge_responder({"messages": [{"role": "user", "content": "R1: warm up\nS1: warm"}]})


def _parse_payload(raw: bytes) -> JSONDict | None:
    try:
        payload = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
        return None
    return payload


async def _cancel_other_tasks() -> None:
    """Cancel every other task on this loop (connection handlers) and wait for them."""
    current = asyncio.current_task()
    while pending := [t for t in asyncio.all_tasks() if t is not current]:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    await asyncio.sleep(0)  # let closed transports run their connection_lost callbacks


# --------------------------------------------------------------------------- CLI


def _parse_faults(text: str | None) -> FaultSpec:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Loopback OpenAI-compatible test server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--faults", help='JSON list, JSON {"kind": prob}, or one kind')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--timeout-sleep", type=float, default=30.0)
    parser.add_argument("--responder", choices=sorted(RESPONDERS), default="metajudge")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    server = LLMServer(
        responder=RESPONDERS[args.responder],
        latency=args.latency,
        jitter=args.jitter,
        faults=_parse_faults(args.faults),
        seed=args.seed,
        retry_after=args.retry_after,
        timeout_sleep=args.timeout_sleep,
        port=args.port,
    )
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT may be inherited as ignored
        signal.signal(signum, lambda *_: done.set())
    with server:
        print(server.base_url, flush=True)
        while not done.wait(0.5):
            pass
    # Counts only: a list per request (bodies, attempts, arrivals) would outgrow the pipe of a
    # parent that read just the first line, and block this print (and the parent's wait).
    stats = server.stats
    summary = {k: v for k, v in stats.items() if k not in ("bodies", "attempts", "arrivals")}
    summary["arrivals"] = len(stats.get("arrivals", ()))
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
