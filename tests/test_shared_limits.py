"""An endpoint's concurrency and rate hold across worker processes (limits kept in Redis)."""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from metajudge.llm.limits import SharedLimits
from tests.services import reachable, require

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url():
    require(reachable(REDIS_URL), f"Redis at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    return REDIS_URL


def clients(base_url: str, processes: int, *args: str) -> list[dict]:
    """Start `processes` OS processes calling the endpoint at once; their JSON reports."""
    key = uuid.uuid4().hex
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.limits_client", base_url, "--key", key, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    return [json.loads(p.communicate(timeout=120)[0]) for p in procs]


def test_two_processes_never_exceed_the_endpoint_concurrency(llm_server, redis_url):
    llm_server.set_latency(0.1)
    reports = clients(
        llm_server.base_url, 2, "--calls", "24", "--width", "8", "--max", "4", "--redis", redis_url
    )
    assert [r["ok"] for r in reports] == [24, 24]
    assert llm_server.stats["completions"] == 48
    # Each process alone would open 8; together, sharing the endpoint's 4, never more than 4.
    assert llm_server.stats["max_in_flight"] == 4


def test_without_shared_limits_each_process_has_its_own_bound(llm_server):
    """The control: the per-process limiter lets two processes double the load."""
    llm_server.set_latency(0.2)
    reports = clients(llm_server.base_url, 2, "--calls", "16", "--width", "4", "--max", "4")
    assert [r["ok"] for r in reports] == [16, 16]
    assert llm_server.stats["max_in_flight"] > 4


def test_requests_per_minute_is_one_schedule_for_all_processes(llm_server, redis_url):
    reports = clients(
        llm_server.base_url, 2, "--calls", "10", "--rpm", "600", "--max", "8", "--redis", redis_url
    )
    assert [r["ok"] for r in reports] == [10, 10]
    # One schedule of a start every 100 ms for both processes (each alone would take ~1 s, so
    # they overlap): any 6 consecutive requests that reach the server span 5 intervals (timing
    # slack allowed), and no second holds more than the 10 the rate allows (+1 at its edges).
    arrivals = llm_server.stats["arrivals"]
    spans = [b - a for a, b in zip(arrivals, arrivals[5:], strict=False)]
    assert len(arrivals) == 20 and min(spans) >= 0.4, spans
    assert arrivals[-1] - arrivals[0] >= 1.7
    assert llm_server.most_arrivals_within(1.0) <= 11


def test_a_dead_holders_slot_comes_back_when_its_lease_ends(redis_url):
    key = uuid.uuid4().hex

    def limits():
        return SharedLimits(redis_url, key, max_concurrency=1, requests_per_minute=0, lease_s=0.6)

    async def scenario():
        holder, other = limits(), limits()
        try:
            await holder.acquire()
            await asyncio.sleep(0.8)  # alive: its lease is renewed past its first end
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(other.acquire(), timeout=0.2)
            await holder.close()  # "killed": no release, no more renewals
            started = time.monotonic()
            token = await asyncio.wait_for(other.acquire(), timeout=3)
            waited = time.monotonic() - started
            await other.release(token)
            return waited
        finally:
            await other.close()

    waited = asyncio.run(scenario())
    assert 0.05 < waited < 1.5
