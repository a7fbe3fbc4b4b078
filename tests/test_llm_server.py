"""The loopback OpenAI-compatible server, driven by the real ``openai`` client."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest

from tests import llm_server
from tests.llm_server import (
    FaultPlan,
    LLMServer,
    echo_responder,
    fail_first_attempts,
    genrm_responder,
    metajudge_responder,
)

ROOT = Path(__file__).resolve().parent.parent
RESULT = re.compile(r"<RESULT_START>\n((?:- R\d+@S\d+: \d+(?:\.\d+)?\n)+)<RESULT_END>")
VERDICT = re.compile(r"\[\[VERDICT: ([12])\]\]$")
PROMPT = """Match each human reason to a model reason.
<human_reasons>
R1: Response A cites the correct dosage.
R2: Response B is needlessly verbose.
R3: Response A explains the side effects.
</human_reasons>
<model_reasons>
S1: A gives the right dose.
S2: B rambles.
</model_reasons>
"""


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer(timeout_sleep=5.0) as srv:
        yield srv


@pytest.fixture
def client(server: LLMServer) -> Iterator[openai.OpenAI]:
    with make_client(server) as c:
        yield c


def make_client(srv: LLMServer, timeout: float = 5.0, retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="t", max_retries=retries, timeout=timeout)


def ask(client: openai.OpenAI, prompt: str = "hello") -> openai.types.chat.ChatCompletion:
    messages = [{"role": "system", "content": "be strict"}, {"role": "user", "content": prompt}]
    return client.chat.completions.create(model="judge-x", messages=messages)


def outcome(client: openai.OpenAI, prompt: str = "hello") -> str | int:
    try:
        ask(client, prompt)
    except openai.APIStatusError as exc:
        return exc.status_code
    return "ok"


def request(body: dict) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": body}]}


# --------------------------------------------------------------------------- answers


def test_metajudge_answer_parses(client: openai.OpenAI) -> None:
    resp = ask(client, PROMPT)
    content = resp.choices[0].message.content
    match = RESULT.fullmatch(content)
    assert match, content
    lines = match.group(1).splitlines()
    assert [line.split("@")[0] for line in lines] == ["- R1", "- R2", "- R3"]
    assert all(re.match(r"- R\d@S[0-2]: ", line) for line in lines)
    assert (resp.object, resp.model, resp.choices[0].finish_reason) == (
        "chat.completion",
        "judge-x",
        "stop",
    )
    assert resp.choices[0].message.role == "assistant"
    assert resp.usage.completion_tokens == len(content) // 4 + 1
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens


def test_metajudge_fallback_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_server, "_load_matcher", lambda: None)
    answer = metajudge_responder(request(PROMPT))
    assert answer == "<RESULT_START>\n- R1@S1: 1\n- R2@S2: 1\n- R3@S1: 1\n<RESULT_END>"
    no_model = metajudge_responder(request("R1: a\nR2: b"))
    assert no_model == "<RESULT_START>\n- R1@S0: 0\n- R2@S0: 0\n<RESULT_END>"


@pytest.mark.parametrize(
    "raw",
    [
        [(1, 2, 0.75), (2, 0, 0.0), (3, 1, 0.5)],  # 1-based, S0 = no match
        [(0, 1, 0.75), (1, None, 0.0), (2, 0, 0.5)],  # 0-based, None = no match
    ],
)
def test_metajudge_uses_matcher(monkeypatch: pytest.MonkeyPatch, raw: list) -> None:
    monkeypatch.setattr(llm_server, "_load_matcher", lambda: lambda human, model: raw)
    answer = metajudge_responder(request(PROMPT))
    assert answer == "<RESULT_START>\n- R1@S2: 0.75\n- R2@S0: 0\n- R3@S1: 0.5\n<RESULT_END>"


def test_metajudge_reads_only_the_last_user_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_server, "_load_matcher", lambda: None)
    body = request("R1: only one\nS1: x")
    body["messages"].insert(0, {"role": "user", "content": "R1: a\nR2: b\nR3: c"})
    assert metajudge_responder(body).count("@S") == 1


def test_genrm_responder_is_deterministic() -> None:
    body = request("Prompt: hi\nResponse 1: hello\nResponse 2: hey")
    answer = genrm_responder(body)
    assert answer == genrm_responder(body)
    assert VERDICT.search(answer)
    assert sum(line.startswith("- ") for line in answer.splitlines()) == 3
    verdicts = {genrm_responder(request(f"Response 1 / Response 2 #{i}"))[-3] for i in range(8)}
    assert verdicts == {"1", "2"}
    assert not VERDICT.search(genrm_responder(request("no pair here")))


def test_echo_and_models(server: LLMServer, client: openai.OpenAI) -> None:
    server.responder = echo_responder
    assert ask(client, "ping").choices[0].message.content == "ping"
    assert [m.id for m in client.models.list()] == ["mock-judge"]


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ("500", openai.InternalServerError, 500),
        ("503", openai.InternalServerError, 503),
        ("429", openai.RateLimitError, 429),
        ("400", openai.BadRequestError, 400),
    ],
)
def test_status_faults(
    server: LLMServer, client: openai.OpenAI, fault: str, error: type, status: int
) -> None:
    server.set_faults(fault)
    with pytest.raises(error) as info:
        ask(client)
    assert info.value.status_code == status
    if fault == "429":
        assert info.value.response.headers["Retry-After"] == "1"
    server.set_faults(None)
    assert ask(client).choices


@pytest.mark.parametrize("fault", ["truncated", "disconnect"])
def test_connection_faults(server: LLMServer, client: openai.OpenAI, fault: str) -> None:
    server.set_faults(fault)
    with pytest.raises(openai.APIConnectionError) as info:
        ask(client)
    assert not isinstance(info.value, openai.APITimeoutError)
    server.set_faults(None)
    assert ask(client).choices  # the client recovers on a fresh connection


def test_timeout_fault(server: LLMServer) -> None:
    server.set_faults(["timeout"])
    start = time.monotonic()
    with make_client(server, timeout=0.3) as short, pytest.raises(openai.APITimeoutError):
        ask(short)
    assert time.monotonic() - start < 2.0


def test_ok_shaped_faults(server: LLMServer, client: openai.OpenAI) -> None:
    server.set_faults(["empty_choices", "malformed", "huge"])
    assert ask(client, PROMPT).choices == []
    malformed = ask(client, PROMPT).choices[0].message.content
    assert "<RESULT_START>" not in malformed and not VERDICT.search(malformed)
    assert len(ask(client, PROMPT).choices[0].message.content) >= 1_000_000
    assert RESULT.fullmatch(ask(client, PROMPT).choices[0].message.content)


def test_list_plan_is_consumed_in_order(server: LLMServer, client: openai.OpenAI) -> None:
    server.set_faults(["ok", "500", "429", "ok", 503])
    assert [outcome(client) for _ in range(6)] == ["ok", 500, 429, "ok", 503, "ok"]
    stats = server.stats
    assert stats["faults_remaining"] == 0
    assert stats["by_fault"] == {"ok": 3, "500": 1, "429": 1, "503": 1}
    assert stats["by_status"] == {200: 3, 500: 1, 429: 1, 503: 1}


def test_probability_plan_is_seeded() -> None:
    probs = {"500": 0.2, "429": 0.1, "malformed": 0.05}

    def draws(seed: int) -> list[str]:
        plan = FaultPlan(probs, seed=seed)
        return [plan.next() for _ in range(4000)]

    first = draws(7)
    assert first == draws(7) and first != draws(8)
    assert 0.17 < first.count("500") / 4000 < 0.23
    assert 0.07 < first.count("429") / 4000 < 0.13
    assert 0.6 < first.count("ok") / 4000 < 0.7


@pytest.mark.parametrize("bad", ["teapot", ["ok", "418"], {"500": 0.8, "429": 0.3}, {"500": -1}])
def test_invalid_fault_plans(bad: object) -> None:
    with pytest.raises(ValueError):
        FaultPlan(bad)


def test_fault_hook_faults_first_attempts(server: LLMServer, client: openai.OpenAI) -> None:
    server.set_fault_hook(fail_first_attempts("503"))
    assert [outcome(client, p) for p in ("a", "a", "b", "a", "b")] == [503, "ok", 503, "ok", "ok"]
    assert (server.attempts_for("a"), server.attempts_for("b"), server.attempts_for("c")) == (
        3,
        2,
        0,
    )
    server.set_fault_hook(lambda req: "400" if server.attempts_for(req) == 1 else None)
    assert [outcome(client, "c"), outcome(client, "c")] == [400, "ok"]


def test_client_retry_honours_retry_after(server: LLMServer) -> None:
    server.retry_after = 0.2
    server.set_faults(["429"])
    start = time.monotonic()
    with make_client(server, retries=2) as retrying:
        assert RESULT.fullmatch(ask(retrying, PROMPT).choices[0].message.content)
    assert 0.2 <= time.monotonic() - start < 1.5
    assert server.attempts_for(PROMPT) == 2


# --------------------------------------------------------------------------- concurrency


async def _burst(srv: LLMServer, n: int) -> float:
    async with openai.AsyncOpenAI(
        base_url=srv.base_url, api_key="t", max_retries=0, timeout=10
    ) as aclient:
        start = time.monotonic()
        replies = await asyncio.gather(
            *(
                aclient.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"{PROMPT}\n#{i}"}]
                )
                for i in range(n)
            )
        )
        elapsed = time.monotonic() - start
    assert all(RESULT.fullmatch(r.choices[0].message.content) for r in replies)
    return elapsed


def test_64_concurrent_requests_do_not_queue() -> None:
    with LLMServer(latency=0.3) as srv:
        elapsed = asyncio.run(_burst(srv, 64))
        stats = srv.stats
    assert elapsed < 1.2, elapsed
    assert stats["max_in_flight"] >= 60
    assert stats["completions"] == 64 and stats["in_flight"] == 0
    assert len(stats["attempts"]) == 64


def test_set_latency_at_runtime(server: LLMServer, client: openai.OpenAI) -> None:
    server.set_latency(0.25, jitter=0.0)
    start = time.monotonic()
    ask(client)
    assert 0.25 <= time.monotonic() - start < 1.0


# --------------------------------------------------------------------------- stats and HTTP


def test_stats_count_and_reset(server: LLMServer, client: openai.OpenAI) -> None:
    server.set_faults(["500"])
    outcome(client, "one")
    ask(client, "two")
    client.models.list()
    # The server counts a request out just after its last byte is sent: let it get there.
    deadline = time.monotonic() + 2
    while server.stats["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.01)
    stats = server.stats
    assert (stats["requests"], stats["completions"], stats["in_flight"]) == (3, 2, 0)
    assert stats["by_status"] == {500: 1, 200: 2}
    assert [b["messages"][-1]["content"] for b in stats["bodies"]] == ["one", "two"]
    assert stats["bodies"][0]["model"] == "judge-x"
    server.reset_stats()
    stats = server.stats
    assert (stats["requests"], stats["max_in_flight"], stats["bodies"]) == (0, 0, [])
    assert server.attempts_for("one") == 0


def test_bodies_are_bounded() -> None:
    with LLMServer(responder=echo_responder, max_bodies=3) as srv, make_client(srv) as c:
        for i in range(5):
            ask(c, str(i))
        assert [b["messages"][-1]["content"] for b in srv.stats["bodies"]] == ["2", "3", "4"]


def test_keep_alive_chunked_and_bad_json(server: LLMServer) -> None:
    server.responder = echo_responder
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    body = json.dumps(request("chunky")).encode()
    conn.request(
        "POST",
        "/v1/chat/completions",
        body=iter([body[:10], body[10:]]),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    reply = json.loads(conn.getresponse().read())
    assert reply["choices"][0]["message"]["content"] == "chunky"
    sock = conn.sock
    conn.request("POST", "/v1/chat/completions", body=b"{not json")
    bad = conn.getresponse()
    assert bad.status == 400 and "error" in json.loads(bad.read())
    assert conn.sock is sock  # same keep-alive connection
    conn.request("GET", "/v1/nowhere")
    assert conn.getresponse().status == 404
    conn.close()


def test_stop_is_prompt_with_hanging_requests() -> None:
    srv = LLMServer(faults="timeout", timeout_sleep=30.0).start()
    body = json.dumps(request("hang")).encode()
    head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(3)]
    for sock in socks:
        sock.sendall(head.encode() + body)
    wait_for(lambda: srv.stats["in_flight"] == 3)
    start = time.monotonic()
    srv.stop()
    assert time.monotonic() - start < 1.0
    for sock in socks:
        sock.settimeout(2)
        assert sock.recv(100) == b""
        sock.close()


def test_port_in_use_raises(server: LLMServer) -> None:
    with pytest.raises(OSError):
        LLMServer(port=server.port).start()


def test_cli_runs_and_stops_on_ctrl_c() -> None:
    cmd = [sys.executable, "-m", "tests.llm_server", "--latency", "0.01", "--faults", '["500"]']
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        base_url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", base_url)
        with openai.OpenAI(base_url=base_url, api_key="t", max_retries=0) as c:
            assert outcome(c, PROMPT) == 500
            assert RESULT.fullmatch(ask(c, PROMPT).choices[0].message.content)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
        summary = json.loads(proc.stdout.readline())
        assert summary["completions"] == 2 and summary["by_status"] == {"500": 1, "200": 1}
    finally:
        proc.kill()
        proc.stdout.close()


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)
