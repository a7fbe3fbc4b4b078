"""An import job's progress page (superusers); htmx polls its progress region until done."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotate.access import get_import_job


@require_GET
def import_job(request, job_id: int):
    job = get_import_job(request.user, job_id)
    name = "annotate/import_job.html#progress" if request.htmx else "annotate/import_job.html"
    return render(request, name, {"job": job})
