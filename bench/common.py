"""Shared bench helpers: a fresh database of its own, Django set up against it."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")


def fresh_database(kind: str, name: str = "") -> str:
    """Return a DATABASE_URL for an empty database ('sqlite' or 'postgres'; BENCH_PG_DB names
    the PostgreSQL one, default rationale_bench)."""
    name = name or os.environ.get("BENCH_PG_DB", "rationale_bench")
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="ra-bench-")) / "bench.sqlite3"
        # Removed when the bench ends: at HelpSteer3 scale a file is about 600 MB, and the
        # write-back of files left by earlier runs slowed later runs' commits by seconds.
        atexit.register(shutil.rmtree, path.parent, True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def start_judge(port: int, latency: float, responder: str) -> subprocess.Popen:
    """The loopback OpenAI-compatible judge (tests/llm_server.py) in a process of its own;
    returns once it listens (it prints its base URL then)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.llm_server",
            "--port",
            str(port),
            "--latency",
            str(latency),
            "--responder",
            responder,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    proc.stdout.readline()
    return proc


def setup_django(database_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_DEBUG", "0")  # production settings: no query log
    os.environ.setdefault("RATIONALE_VAR_DIR", tempfile.mkdtemp(prefix="ra-bench-var-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a live process and its live children (a worker's pool)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(proc_cpu(int(child)) for child in children)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
