"""Start and kill a real Celery worker process against real Redis and the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
TEST_QUEUE = f"ra-test-{uuid.uuid4().hex[:8]}"


def database_url() -> str:
    """The URL of the database the tests are using right now (the test database)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """A `celery worker` in its own process group, so SIGKILL takes its children too."""

    def __init__(
        self,
        broker_url: str,
        *,
        queue: str | None = None,
        concurrency: int = 2,
        extra_env: dict | None = None,
        log_path: Path | None = None,
    ) -> None:
        # One queue name per test process: Celery caches its routing table on first use.
        self.queue = queue or TEST_QUEUE
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "1",
            "SECRET_KEY": "worker-test",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_LLM_QUEUE": llm_queue(self.queue),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_VISIBILITY_TIMEOUT": "3",
            "METAJUDGE_CLAIM_LEASE": "2",
            "LLM_LIMITS_LEASE": "2",  # slots held by a killed worker come back as fast
            "DB_CONN_MAX_AGE": "0",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.concurrency = concurrency
        self.log_path = (
            log_path or Path(os.environ.get("RATIONALE_VAR_DIR", "/tmp")) / f"{self.queue}.log"
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                f"{self.queue},{llm_queue(self.queue)}",  # both kinds of work, as app.sh does
                "-c",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker: no graceful shutdown, no acks."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def llm_queue(queue: str) -> str:
    return f"{queue}-llm"


def use_broker(broker_url: str, queue: str) -> None:
    """Point this process's Celery app at the real broker, not eager mode."""
    from config.celery import app

    app.conf.update(
        broker_url=broker_url,
        task_always_eager=False,
        task_default_queue=queue,
        llm_queue=llm_queue(queue),
        broker_transport_options={"visibility_timeout": 3},
    )


def restore_eager() -> None:
    from config.celery import app

    app.conf.update(task_always_eager=True)


def wait_for(predicate, timeout: float = 60.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"condition not met within {timeout}s")
