"""An endpoint's concurrency and requests-per-minute, shared by every worker process and host.

Kept in Redis (the production broker), one key pair per endpoint:

- ``{prefix}:slots`` is a sorted set of leases, member = a random token, score = the lease's end
  (Redis server time, ms). A live process renews its leases; taking a slot first drops expired
  ones, so the slots of a worker that died come back one lease (LLM_LIMITS_LEASE, 15 s) later.
- ``{prefix}:rate`` holds the next free start (ms) of an even schedule of
  60 000 / requests_per_minute ms, and the shared pause after a 429.

Both updates are single Lua scripts, atomic on the server and timed by its clock (workers'
clocks may differ). With no Redis (the embedded default: one worker process, filesystem broker)
JudgeClient keeps its in-process semaphore and RateLimiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid

import redis.asyncio as aioredis

ACQUIRE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 1
end
return 0
"""
# KEYS[1] the leases, KEYS[2] the wake-up list; ARGV[1] the token, ARGV[2] the concurrency.
RELEASE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], 1)
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
  redis.call('PEXPIRE', KEYS[2], 60000)
end
return 1
"""
# ARGV[1] the lease (ms), ARGV[2..] the tokens this process holds.
RENEW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', ms + tonumber(ARGV[1]), ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return 1
"""
# KEYS[1] the schedule hash; ARGV: interval ms, pause ms (0: none). Returns ms to wait.
RESERVE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused') or '0')
if tonumber(ARGV[2]) > 0 then
  paused = math.max(paused, ms + tonumber(ARGV[2]))
  redis.call('HSET', KEYS[1], 'paused', paused)
end
if tonumber(ARGV[1]) == 0 then
  redis.call('PEXPIRE', KEYS[1], 600000)
  return math.max(0, paused - ms)
end
local start = math.max(ms, tonumber(redis.call('HGET', KEYS[1], 'next') or '0'), paused)
redis.call('HSET', KEYS[1], 'next', start + tonumber(ARGV[1]))
redis.call('PEXPIRE', KEYS[1], 600000)
return start - ms
"""
# A waiter for a full endpoint blocks on the wake-up list that every release pushes to; the
# timeout bounds the wait for a slot whose holder died (its lease ends, nothing is pushed).
WAKE_TIMEOUT_S = 0.05


def limit_prefix(key: str) -> str:
    return "ra:llm-limits:" + hashlib.sha256(key.encode()).hexdigest()[:24]


class SharedLimits:
    """``async with limits.slot():`` holds one of the endpoint's slots and starts on its
    schedule."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        max_concurrency: int,
        requests_per_minute: int,
        lease_s: float,
    ) -> None:
        self.redis = aioredis.Redis.from_url(url)
        prefix = limit_prefix(key)
        self.slots_key, self.rate_key = f"{prefix}:slots", f"{prefix}:rate"
        self.wake_key = f"{prefix}:wake"
        self.max_concurrency = max(1, max_concurrency)
        self.interval_ms = int(60000 / requests_per_minute) if requests_per_minute else 0
        self.lease_ms = int(lease_s * 1000)
        self.pause_ms = 0
        self._acquire = self.redis.register_script(ACQUIRE)
        self._renew = self.redis.register_script(RENEW)
        self._release = self.redis.register_script(RELEASE)
        self.held: set[str] = set()
        self._turn = asyncio.Lock()
        self._renewer: asyncio.Task | None = None
        self._reserve = self.redis.register_script(RESERVE)

    async def acquire(self) -> str:
        token = uuid.uuid4().hex
        # One waiter per process talks to Redis; the others queue here, in order. Without
        # this, every call over the endpoint's width polls Redis on a connection of its own.
        async with self._turn:
            while not await self._acquire(
                keys=[self.slots_key], args=[self.max_concurrency, self.lease_ms, token]
            ):
                await self.redis.blpop([self.wake_key], timeout=WAKE_TIMEOUT_S)
        self.held.add(token)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_held())
        return token

    async def _renew_held(self) -> None:
        """A live process extends its leases every third of a lease: only a dead one's lapse."""
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            if not self.held:
                continue
            try:
                await self._renew(keys=[self.slots_key], args=[self.lease_ms, *self.held])
            except aioredis.RedisError:
                continue  # a blip: the next round renews; a lease is three rounds long

    async def release(self, token: str) -> None:
        self.held.discard(token)
        await self._release(
            keys=[self.slots_key, self.wake_key], args=[token, self.max_concurrency]
        )

    async def wait_turn(self, token: str) -> None:
        """Wait for this start's place in the shared schedule (and any shared pause)."""
        pause, self.pause_ms = self.pause_ms, 0
        if not self.interval_ms and not pause:
            return
        wait_ms = await self._reserve(keys=[self.rate_key], args=[self.interval_ms, pause])
        if wait_ms > 0:
            await asyncio.sleep(wait_ms / 1000)

    def pause(self, seconds: float) -> None:
        """After a 429: every worker waits; sent with this process's next start."""
        self.pause_ms = max(self.pause_ms, int(seconds * 1000))

    @contextlib.asynccontextmanager
    async def slot(self):
        token = await self.acquire()
        try:
            await self.wait_turn(token)
            yield
        finally:
            await self.release(token)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self.redis.aclose()
