"""metajudge.runs.dispatch sends tasks by name: every name it uses must be a registered task."""

import subprocess
import sys

from celery import current_app

from config.celery import LLM_TASKS
from metajudge.runs import dispatch


def test_every_name_dispatch_sends_is_registered():
    for name in dispatch.TASK_NAMES:
        assert dispatch.task(name).name == name
        assert current_app.tasks[name].__module__ == "metajudge.tasks"
    assert LLM_TASKS <= set(dispatch.TASK_NAMES)


def test_a_fresh_process_finds_the_tasks_on_its_first_dispatch():
    code = (
        "import django; django.setup(); import sys; "
        "from metajudge.runs import dispatch; "
        "assert 'metajudge.tasks' not in sys.modules; "
        "print(sorted(dispatch.task(n).name for n in dispatch.TASK_NAMES))"
    )
    env_code = f"import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'tests.settings'; {code}"
    out = subprocess.run(
        [sys.executable, "-c", env_code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(sorted(dispatch.TASK_NAMES))
