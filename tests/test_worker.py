"""A real Celery worker process against real Redis and the real test database."""

import os

import pytest
import redis

from metajudge.models import Critic, MatchResult, MatchRun
from metajudge.runs import match_runs as runs
from metajudge.services.setup import endpoint_for, template_default
from tests.services import reachable, require
from tests.worker import Worker, restore_eager, use_broker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def broker():
    require(reachable(REDIS_URL), f"Redis at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    yield REDIS_URL
    restore_eager()


def finished(run_id):
    run = MatchRun.objects.get(pk=run_id)
    return run if run.state == "done" else None


def test_offline_run_through_a_real_worker(demo, broker):
    with Worker(broker) as worker:
        use_broker(broker, worker.queue)
        run = runs.run_start(
            dataset=demo, critic=Critic.objects.get(name="careful-judge"), matcher="offline"
        )
        run = wait_for(lambda: finished(run.pk), timeout=90)
    assert run.done_count == run.total == 32
    assert MatchResult.objects.filter(run=run, status="valid").count() == 32


def test_sigkill_mid_run_loses_and_duplicates_nothing(demo, broker, llm_server, settings):
    """Kill the worker three times while LLM calls are in flight; restart; every sample ends
    with exactly one result and the run finishes."""
    llm_server.set_latency(0.4)
    endpoint = endpoint_for(model="judge-k", base_url=llm_server.base_url, concurrency=4)
    settings.METAJUDGE_CHUNK_SIZE = 8
    worker = Worker(broker)
    use_broker(broker, worker.queue)
    run = runs.run_start(
        dataset=demo,
        critic=Critic.objects.get(name="careful-judge"),
        matcher="llm",
        endpoint=endpoint,
        template=template_default("metajudge"),
        concurrency=4,
    )
    try:
        for _ in range(3):
            worker.start()
            wait_for(lambda: llm_server.stats["requests"] > 0, timeout=120, every=0.05)
            wait_for(
                lambda: MatchResult.objects.filter(run=run, status="claimed").exists(), 60, 0.05
            )
            worker.kill()
            llm_server.reset_stats()
        with worker:
            run = wait_for(lambda: finished(run.pk), timeout=120)
    finally:
        worker.kill()  # never leave a worker behind when a wait above times out
    assert MatchResult.objects.filter(run=run).count() == 32
    assert MatchResult.objects.filter(run=run, status="valid").count() == 32
    assert run.done_count == 32


def test_two_workers_on_one_run_never_exceed_the_endpoint_concurrency(
    demo, broker, llm_server, monkeypatch
):
    """Two worker processes (two chunks each at once, each chunk 4 calls wide) could put 16
    calls in flight; the endpoint allows 4, and the limit held in Redis keeps it at 4."""
    from metajudge.runs import lifecycle

    def in_eights(items, concurrency, size=0):
        ids = sorted(items.values_list("pair_id", flat=True))
        return [ids[i : i + 8] for i in range(0, len(ids), 8)]

    monkeypatch.setattr(lifecycle, "pending_chunks", in_eights)
    llm_server.set_latency(0.3)
    endpoint = endpoint_for(model="judge-shared", base_url=llm_server.base_url, concurrency=4)
    first = Worker(broker)
    second = Worker(broker, queue=first.queue)
    use_broker(broker, first.queue)
    with first, second:
        run = runs.run_start(
            dataset=demo,
            critic=Critic.objects.get(name="careful-judge"),
            matcher="llm",
            endpoint=endpoint,
            template=template_default("metajudge"),
            concurrency=4,
        )
        run = wait_for(lambda: finished(run.pk), timeout=120)
    assert MatchResult.objects.filter(run=run, status="valid").count() == 32
    assert 2 <= llm_server.stats["max_in_flight"] <= 4
