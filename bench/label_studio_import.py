"""`import_pairs` side by side with Label Studio's API import of the same file, in one run.

    .venv/bin/python bench/label_studio_import.py --label-studio LS_BIN [--pairs PAIRS.jsonl]
        [--rounds 2] [sqlite|postgres ...]

Label Studio is not a dependency of the app: install it in a virtual environment of its own
(`python3 -m venv /tmp/lsenv && /tmp/lsenv/bin/pip install label-studio==1.23.2`, the version
of issue 13's figures) and pass its executable. PAIRS.jsonl defaults to the file of
bench/bulk_paths.py (`../shared/data/make_scale.py 22116 2`, 275 MB).

Each round, per backend, alternating the two tools on the same database server:
- Label Studio: a fresh data directory and database, its server started (not timed), a project,
  then the file POSTed to /api/projects/<id>/import, timed from the request to the answer (the
  open-source import is synchronous: the tasks are in its database when it answers), and its
  task count checked;
- the app: `import_pairs` of the same file in a fresh process and database, timed around the
  call (what the upload worker and the command run), its pair count checked.
Prints each time and the ratio (the issue's target: at most half of Label Studio's time).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bulk_paths import pairs_file  # noqa: E402
from common import PG_ADMIN_URL, fresh_database, setup_django  # noqa: E402

PORT = 18090
TOKEN = "0123456789abcdef0123456789abcdef01234567"  # loopback only, a fresh server each round
CONFIG = (
    '<View><Text name="r1" value="$response1"/><Text name="r2" value="$response2"/>'
    '<Choices name="pref" toName="r1"><Choice value="1"/><Choice value="2"/></Choices></View>'
)
LS_DB = "rationale_bench_ls"


def api(method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 loopback
        return json.loads(answer.read())


def start_label_studio(binary: str, kind: str, data: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "DATA_UPLOAD_MAX_MEMORY_SIZE": str(1 << 30),  # the default, 250 MB, refuses the file
    }
    if kind == "postgres":
        fresh_database("postgres", LS_DB)
        env.update(
            DJANGO_DB="default",
            POSTGRE_NAME=LS_DB,
            POSTGRE_USER="postgres",
            POSTGRE_PASSWORD="",
            POSTGRE_HOST="127.0.0.1",
            POSTGRE_PORT="5432",
        )
    else:
        env["DJANGO_DB"] = "sqlite"
    command = [binary, "start", "--no-browser", "--port", str(PORT)]
    command += ["--username", "bench@example.com", "--password", "bench-password-1"]
    command += ["--user-token", TOKEN]
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=2):  # noqa: S310
                break
        except OSError:
            time.sleep(1)
    else:
        raise SystemExit("Label Studio did not start")
    allow_legacy_token(kind, data)
    return proc


def allow_legacy_token(kind: str, data: Path) -> None:
    """1.23 turns token authentication off for a new organization; turn it on for the bench."""
    sql = "UPDATE jwt_auth_jwtsettings SET legacy_api_tokens_enabled = true"
    if kind == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{LS_DB}", autocommit=True) as c:
            c.execute(sql)
        return
    with sqlite3.connect(data / "label_studio.sqlite3") as conn:
        conn.execute(sql.replace("true", "1"))


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def as_json_list(pairs: Path) -> Path:
    """Label Studio 1.23 refuses .jsonl uploads: the same records as one JSON list."""
    out = pairs.with_name(pairs.stem + "-tasks.json")
    if not out.exists():
        with pairs.open() as source, out.open("w") as sink:
            sink.write("[" + ",\n".join(line.rstrip("\n") for line in source if line.strip()) + "]")
    return out


def label_studio_round(binary: str, kind: str, pairs: Path) -> tuple[float, int]:
    tasks_file = as_json_list(pairs)
    data = Path(tempfile.mkdtemp(prefix="ra-bench-ls-"))
    proc = start_label_studio(binary, kind, data)
    try:
        project = api("POST", "/api/projects", {"title": "scale", "label_config": CONFIG})["id"]
        start = time.perf_counter()
        done = subprocess.run(
            [
                "curl",
                "-sS",
                "-H",
                f"Authorization: Token {TOKEN}",
                "-F",
                f"file=@{tasks_file}",
                f"http://127.0.0.1:{PORT}/api/projects/{project}/import",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - start
        answer = json.loads(done.stdout)
        tasks = api("GET", f"/api/projects/{project}")["task_number"]
        if tasks != answer.get("task_count", tasks) or not tasks:
            raise SystemExit(f"Label Studio imported {tasks} tasks: {done.stdout[:300]}")
        return seconds, tasks
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)


def app_round(kind: str, pairs: Path) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(pairs)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures["seconds"], figures["pairs"]


def child(kind: str, pairs: Path) -> None:
    setup_django(fresh_database(kind))
    from annotate.models import Pair
    from annotate.services.imports import import_pairs

    start = time.perf_counter()
    with pairs.open("rb") as stream:
        import_pairs(stream=stream, dataset_name="scale")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "pairs": Pair.objects.count()}))


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--child":
        child(args[1], Path(args[2]))
        return
    if "--label-studio" not in args:
        raise SystemExit(__doc__)
    binary = args[args.index("--label-studio") + 1]
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 2
    pairs = pairs_file(args[args.index("--pairs") + 1] if "--pairs" in args else None)
    kinds = [a for a in args if a in ("sqlite", "postgres")] or ["sqlite", "postgres"]
    print(f"{pairs.name} ({pairs.stat().st_size / 1e6:.0f} MB), {rounds} rounds", flush=True)
    for kind in kinds:
        ours, theirs = [], []
        for k in range(rounds):
            seconds, tasks = label_studio_round(binary, kind, pairs)
            theirs.append(seconds)
            print(f"  {kind} round {k + 1}: Label Studio {seconds:6.2f} s ({tasks} tasks)")
            seconds, count = app_round(kind, pairs)
            ours.append(seconds)
            print(f"  {kind} round {k + 1}: import_pairs {seconds:6.2f} s ({count} pairs)")
        app, peer = statistics.median(ours), statistics.median(theirs)
        print(
            f"{kind}: import_pairs {app:.2f} s vs Label Studio {peer:.2f} s (medians): "
            f"{app / peer:.2f}x its time (target <= 0.5x)",
            flush=True,
        )


if __name__ == "__main__":
    main()
