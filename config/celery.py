import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rationale_audit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_folders(sender=None, **kwargs):
    # The filesystem broker (and a SQLite database) need their folders in every process that
    # sends or runs tasks; settings no longer create them on import.
    from config.runtime import ensure_dirs

    ensure_dirs()


@worker_ready.connect
def _recover_open_runs(sender=None, **kwargs):
    # The broker redelivers unacked chunks only after its visibility timeout; this picks
    # interrupted runs up as soon as a worker is back.
    from metajudge.services.runs import runs_recover

    runs_recover()


@task_prerun.connect
@task_postrun.connect
def _fresh_connections(task=None, **kwargs):
    # Like a request: drop connections that broke (a database restart) or outlived their age.
    # Not for eager tasks: they run inside the caller's transaction and connection.
    if task is not None and task.request.is_eager:
        return
    from django.db import close_old_connections

    close_old_connections()
