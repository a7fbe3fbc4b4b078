"""Importing settings touches no disk; the processes that write create their own folders."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code: str, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "STATIC_ROOT", "CACHE_URL"}
    }
    env.update(
        RATIONALE_VAR_DIR=str(tmp_path / "absent" / "var"),
        STATIC_ROOT=str(tmp_path / "absent" / "static"),
        DJANGO_DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_settings_creates_no_folder(tmp_path):
    done = run("import config.settings as s; print(s.VAR_DIR)", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "absent" / "var")
    assert not (tmp_path / "absent").exists()


def test_the_web_process_makes_its_folders_without_a_static_warning(tmp_path):
    done = run("import config.wsgi", tmp_path, "-W", "error::UserWarning")
    assert done.returncode == 0, done.stderr
    var = tmp_path / "absent" / "var"
    for folder in ("queue", "processed", "control"):
        assert (var / "broker" / folder).is_dir()
    assert not (tmp_path / "absent" / "static").exists()  # collectstatic's job


def test_the_celery_app_makes_the_broker_folders(tmp_path):
    done = run("from config.celery import app; app.conf.broker_url", tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "absent" / "var" / "broker" / "queue").is_dir()
