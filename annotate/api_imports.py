"""Uploads (superusers): the request stores the file and answers at once with the import job;
a worker runs the import. `GET /api/v1/imports/<id>/` reports its progress and its report."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from kombu.exceptions import OperationalError
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import get_import_job
from annotate.dispatch import import_enqueue
from annotate.models import ImportJob
from annotate.services.import_jobs import import_job_create, import_job_unqueued
from annotate.uploads import UploadRefused

FAILED_STATUS = {"refused": 400, "unreadable": 400, "database": 503, "queue": 503}


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=".jsonl, .ndjson or .jsonl.gz")
    strict = serializers.BooleanField(default=False)


def job_body(request, job: ImportJob) -> dict:
    body = {
        "id": job.pk,
        "state": job.state,
        "finished": job.finished,
        "dataset": job.dataset_name,
        "file_name": job.file_name,
        "size": job.size,
        "strict": job.strict,
        "lines": job.lines,
        "bytes_read": job.bytes_read,
        "percent": job.percent,
        "created": job.created,
        "duplicates": job.duplicates,
        "rejected": [{"line": n, "reason": r} for n, r in job.rejected],
        "rejected_count": job.rejected_count,
        "written": job.written,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "links": {
            "self": request.build_absolute_uri(reverse("api-import-job", args=[job.pk])),
            "page": request.build_absolute_uri(reverse("annotate:import", args=[job.pk])),
        },
    }
    if job.error:
        body["detail"] = job.error
    return body


def job_status(job: ImportJob) -> int:
    """202 while a worker has it; once finished, what the import inside the request answered."""
    if not job.finished:
        return status.HTTP_202_ACCEPTED
    if job.state == ImportJob.State.FAILED:
        return FAILED_STATUS.get(job.error_kind, 400)
    return 200 if job.written else 422


class ImportView(APIView):
    """Superusers upload JSONL into a dataset (created if new). Answers 202 with the job; a
    worker runs the same service as import_pairs (all-or-nothing, every bad line named)."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ImportSerializer}, responses={202: OpenApiTypes.OBJECT}
    )
    def post(self, request, name: str):
        if not request.user.is_superuser:
            raise PermissionDenied("Only superusers import data.")
        form = ImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            job = import_job_create(
                owner=request.user,
                dataset_name=name,
                upload=form.validated_data["file"],
                strict=form.validated_data["strict"],
            )
        except UploadRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        # The job row is committed (no request-wide transaction), so a worker finds it. An
        # eager or very fast worker may have finished it already: then its report is answered.
        try:
            import_enqueue(job.pk)
        except OperationalError:
            import_job_unqueued(job_id=job.pk)
        job.refresh_from_db()
        body = job_body(request, job)
        return Response(body, status=job_status(job), headers={"Location": body["links"]["self"]})


class ImportJobDetail(APIView):
    """An import's state, progress (lines and bytes read) and, once finished, its report."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, job_id: int):
        job = get_import_job(request.user, job_id)
        return Response(job_body(request, job))
