"""Jobs handed from the calling thread to a loop thread: the first are known when the loop
starts, more may follow while those are in flight (a chunk loads its later samples during the
first calls instead of before them), until the calling thread closes the feed."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Awaitable, Callable


class Feed:
    def __init__(self, first=()) -> None:
        self.first = list(first)
        self.count = len(self.first)
        self._later: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False

    def add(self, jobs) -> None:
        """Calling thread: more jobs for the loop."""
        jobs = list(jobs)
        if jobs and not self._closed:
            self.count += len(jobs)
            self._later.put(jobs)

    def close(self) -> None:
        """Calling thread: no more jobs (may be called again)."""
        if not self._closed:
            self._closed = True
            self._later.put(None)

    async def run_each(self, one: Callable[[object], Awaitable[None]]) -> None:
        """Loop thread: run `one(job)` for every job, the later ones as they arrive, and return
        when the feed is closed and every job has ended."""
        loop = asyncio.get_running_loop()
        tasks = [asyncio.ensure_future(one(job)) for job in self.first]
        while (jobs := await loop.run_in_executor(None, self._later.get)) is not None:
            tasks.extend(asyncio.ensure_future(one(job)) for job in jobs)
        await asyncio.gather(*tasks)
