"""metajudge.runs.dispatch sends tasks by name: every name it uses must be a registered task."""

from celery import current_app

from config.celery import LLM_TASKS
from metajudge.runs import dispatch


def test_every_name_dispatch_sends_is_registered():
    registered = set(current_app.tasks.keys())
    assert set(dispatch.TASK_NAMES) <= registered
    assert LLM_TASKS <= set(dispatch.TASK_NAMES)


def test_the_registered_tasks_are_metajudges():
    for name in dispatch.TASK_NAMES:
        assert current_app.tasks[name].__module__ == "metajudge.tasks"
