"""The feed that hands a chunk's jobs to its loop thread while more are still loading."""

import asyncio
import threading
import time

from metajudge.llm.feed import Feed


def test_jobs_added_while_the_first_run_are_run_and_the_loop_ends_when_closed():
    feed = Feed([1, 2])
    ran = []

    async def one(job):
        await asyncio.sleep(0.01)
        ran.append(job)

    loop_thread = threading.Thread(target=lambda: asyncio.run(feed.run_each(one)))
    loop_thread.start()
    time.sleep(0.05)
    assert sorted(ran) == [1, 2] and loop_thread.is_alive()  # waits for more
    feed.add([3])
    feed.add([])  # nothing to hand over
    feed.close()
    feed.add([4])  # after close: never run, never counted
    loop_thread.join(5)
    assert not loop_thread.is_alive()
    assert sorted(ran) == [1, 2, 3] and feed.count == 3


def test_a_feed_closed_at_once_runs_its_first_jobs_only():
    feed = Feed(["a"])
    feed.close()
    feed.close()  # again: harmless
    ran = []

    async def one(job):
        ran.append(job)

    asyncio.run(feed.run_each(one))
    assert ran == ["a"]
