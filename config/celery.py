import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_ready
from django.db import close_old_connections

from config.runtime import ensure_dirs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Calls to judge endpoints wait on the network; imports, finalizers and exports use the database
# and CPU. Each kind has its queue (settings CELERY_LLM_QUEUE and CELERY_TASK_DEFAULT_QUEUE), so
# that a worker pool per kind can be sized and scaled on its own.
LLM_TASKS = frozenset({"metajudge.tasks.process_chunk", "metajudge.tasks.genrm_chunk"})


def route_task(name, args, kwargs, options, task=None, **kw):
    """The chunk tasks (judge calls; offline matching too) go to the LLM queue."""
    if name in LLM_TASKS:
        return {"queue": app.conf.llm_queue}
    return None


app = Celery("rationale_audit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_folders(sender=None, **kwargs):
    # The filesystem broker (and a SQLite database) need their folders in every process that
    # sends or runs tasks; settings no longer create them on import.
    ensure_dirs()


@worker_ready.connect
def _recover_open_runs(sender=None, **kwargs):
    # The broker redelivers unacked chunks only after its visibility timeout; this picks
    # interrupted runs up as soon as a worker is back.
    # Imported when the worker is ready, not at the top: this module loads before Django's apps
    # (config/__init__.py imports it), and the services import models.
    from metajudge.runs.match_runs import runs_recover  # noqa: PLC0415

    runs_recover()


@task_prerun.connect
@task_postrun.connect
def _fresh_connections(task=None, **kwargs):
    # Like a request: drop connections that broke (a database restart) or outlived their age.
    # Not for eager tasks: they run inside the caller's transaction and connection.
    if task is not None and task.request.is_eager:
        return
    close_old_connections()
