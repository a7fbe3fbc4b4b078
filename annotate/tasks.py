"""Thin Celery tasks of the annotate app: ids in, the service does the work."""

from celery import shared_task

from annotate.models import Dataset
from annotate.services import agreement, import_jobs


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_import(job_id: int) -> None:
    """Safe to run twice: the job is claimed on its row, a finished one is left alone."""
    import_jobs.import_job_run(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def compute_agreement(dataset_id: int) -> None:
    """Human-vs-human agreement of a dataset, stored (an upsert: safe to run twice)."""
    if Dataset.objects.filter(pk=dataset_id).exists():
        agreement.agreement_compute(dataset_id=dataset_id)
