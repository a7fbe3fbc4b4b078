"""The README's Python session runs as written against a live server (the block is read from
the README, so the two cannot drift). Only if pandas is not installed does a tiny stand-in
serve its last line's read_csv."""

import contextlib
import csv
import importlib.util
import io
import os
import re
import sys
import types
from pathlib import Path

import pytest

from annotate.services.accounts import user_ensure
from metajudge.models import MatchRun

ROOT = Path(__file__).resolve().parents[1]


def readme_session() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("### A Python session against the API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


class _Column(list):
    def mean(self) -> float:
        values = [float(v) for v in self if v not in ("", None)]
        return sum(values) / len(values)


class _Frame:
    def __init__(self, rows: list[dict]):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, name: str) -> _Column:
        return _Column(r[name] for r in self.rows)


def _pandas_stand_in() -> types.ModuleType:
    module = types.ModuleType("pandas")
    module.read_csv = lambda buffer: _Frame(list(csv.DictReader(buffer)))
    return module


def test_the_session_text_is_short():
    code = readme_session()
    assert "requests" in code and "/runs/" in code and "import/" in code
    assert len(code.strip().splitlines()) <= 16


@pytest.mark.django_db(transaction=True)
def test_readme_session_runs_as_written(live_server, monkeypatch):
    user_ensure(username="admin", password="admin-demo", superuser=True)
    code = readme_session().replace("http://127.0.0.1:8000", live_server.url)
    if importlib.util.find_spec("pandas") is None:
        monkeypatch.setitem(sys.modules, "pandas", _pandas_stand_in())
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme_session"})  # noqa: S102
    printed = out.getvalue().splitlines()
    assert "'created': 32" in printed[0]
    state, rows, mean = printed[-1].split()
    assert state == "done" and int(rows) == 32 and 0 < float(mean) <= 1
    run = MatchRun.objects.get(dataset__name="mine")
    assert run.critic.name == "careful-judge" and run.done_count == 32
    assert os.getcwd() == str(ROOT)
