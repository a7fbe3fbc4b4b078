"""Uploads run in a worker: 202 with the job, progress and report in the API and on a page,
superusers only, all-or-nothing (a failed import writes nothing), safe to run twice."""

import gzip
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.test import Client
from kombu.exceptions import OperationalError

from annotate import api_imports, tasks
from annotate.models import Dataset, ImportJob, Pair
from annotate.services import bulk_pairs, import_jobs

GOOD = "\n".join(
    json.dumps({"id": f"j{i}", "response1": "a", "response2": "b", "overall_preference": 2})
    for i in range(3)
).encode()
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def queued(monkeypatch):
    """No worker yet: the upload only enqueues; the test runs the task itself."""
    sent = []
    monkeypatch.setattr(api_imports, "import_enqueue", sent.append)
    return sent


def upload(client, content=GOOD, name="data.jsonl", strict=False):
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post("/api/v1/datasets/jobs/import/", {"file": file, "strict": strict})


def test_upload_answers_202_and_the_worker_reports(as_superuser, queued):
    response = upload(as_superuser, GOOD + b"\n{bad")
    assert response.status_code == 202
    body = response.json()
    job = ImportJob.objects.get(pk=body["id"])
    assert queued == [job.pk] and body["state"] == "queued" and body["finished"] is False
    assert response["Location"] == body["links"]["self"]
    stored = Path(settings.VAR_DIR) / job.path
    assert stored.read_bytes() == GOOD + b"\n{bad" and not Pair.objects.exists()
    assert as_superuser.get(body["links"]["self"]).json()["state"] == "queued"
    tasks.run_import(job.pk)
    done = as_superuser.get(body["links"]["self"]).json()
    assert (done["state"], done["created"], done["lines"], done["written"]) == ("done", 3, 4, True)
    assert done["rejected"][0]["line"] == 4 and "not valid JSON" in done["rejected"][0]["reason"]
    assert done["percent"] == 100 and not stored.exists()
    tasks.run_import(job.pk)  # a redelivered copy changes nothing
    again = as_superuser.get(body["links"]["self"]).json()
    assert again == done and Pair.objects.filter(dataset__name="jobs").count() == 3


def test_eager_worker_answers_the_report_at_once(as_superuser):
    response = upload(as_superuser, gzip.compress(GOOD), name="data.jsonl.gz")
    body = response.json()
    assert response.status_code == 200 and body["state"] == "done" and body["created"] == 3


@pytest.mark.parametrize(
    "content, name, strict, kind",
    [
        (GOOD + b"\n[]", "data.jsonl", True, ""),  # strict: one bad line rejects the file
        (b"\x1f\x8bnot really gzip", "data.jsonl.gz", False, "unreadable"),
    ],
)
def test_a_failed_import_writes_nothing(as_superuser, queued, content, name, strict, kind):
    body = upload(as_superuser, content, name=name, strict=strict).json()
    tasks.run_import(body["id"])
    job = ImportJob.objects.get(pk=body["id"])
    assert job.finished and job.written is False and job.error_kind == kind
    assert not Pair.objects.exists() and not Dataset.objects.filter(name="jobs").exists()


def test_a_database_failure_mid_import_writes_nothing(as_superuser, queued, monkeypatch):
    def broken(self):
        raise DatabaseError("connection lost")

    body = upload(as_superuser).json()
    monkeypatch.setattr(bulk_pairs.PairStage, "write", broken)
    tasks.run_import(body["id"])
    job = as_superuser.get(f"/api/v1/imports/{body['id']}/").json()
    assert (job["state"], job["written"], job["created"]) == ("failed", False, 0)
    assert "nothing was written" in job["detail"] and not Pair.objects.exists()


def test_only_superusers_see_imports(as_superuser, as_reviewer, as_annotator, as_outsider):
    job = upload(as_superuser).json()
    for other in (as_reviewer, as_annotator, as_outsider):
        assert other.get(f"/api/v1/imports/{job['id']}/").status_code == 403
        assert other.get(f"/annotate/imports/{job['id']}/").status_code == 403
        assert upload(other).status_code == 403
    anonymous = Client()
    assert anonymous.get(f"/api/v1/imports/{job['id']}/").status_code in (401, 403)
    assert anonymous.get(f"/annotate/imports/{job['id']}/").status_code == 302  # to the login
    assert as_superuser.get("/api/v1/imports/999999/").status_code == 404
    assert ImportJob.objects.count() == 1


def test_progress_page_polls_until_done(as_superuser, queued):
    body = upload(as_superuser, GOOD + b"\n{bad", name="<em>odd.jsonl").json()
    page = as_superuser.get(body["links"]["page"])
    html = page.content.decode()
    assert page.status_code == 200 and 'hx-trigger="every 2s"' in html
    assert "&lt;em&gt;odd.jsonl" in html and "<em>odd" not in html
    tasks.run_import(body["id"])
    fragment = as_superuser.get(body["links"]["page"], **HX).content.decode()
    assert 'id="progress"' in fragment and "<h1>" not in fragment
    assert "hx-trigger" not in fragment and "not valid JSON" in fragment


def test_a_broker_that_is_down_fails_the_job_at_once(as_superuser, monkeypatch):
    def down(job_id):
        raise OperationalError("connection refused")

    monkeypatch.setattr(api_imports, "import_enqueue", down)
    response = upload(as_superuser)
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert response.status_code == 503 and "queue is unavailable" in response.json()["detail"]
    assert job.state == "failed" and not (Path(settings.VAR_DIR) / job.path).exists()
    assert not Pair.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_runs(superuser, monkeypatch):
    """On PostgreSQL the counts reach the row from a connection of their own, committed while
    the import's transaction is still open."""
    if connection.vendor != "postgresql":
        pytest.skip("progress rows are written on PostgreSQL only")
    seen = []
    write = import_jobs._Progress.__call__

    def look(self, lines, bytes_read):
        write(self, lines, bytes_read)
        self.pool.submit(lambda: None).result()  # one thread: the write is done
        with ThreadPoolExecutor(1) as other:  # a third connection: what a page would read
            seen.append(other.submit(_lines_seen, self.job_id).result())

    monkeypatch.setattr(import_jobs._Progress, "__call__", look)
    lines = b"\n".join(
        json.dumps(
            {"id": f"p{i}", "response1": "a", "response2": "b", "overall_preference": 1}
        ).encode()
        for i in range(2500)
    )
    file = SimpleUploadedFile("big.jsonl", lines)
    job = import_jobs.import_job_create(
        owner=superuser, dataset_name="progress", upload=file, strict=False
    )
    import_jobs.import_job_run(job_id=job.pk)
    assert seen == [1000, 2000]
    assert ImportJob.objects.get(pk=job.pk).created == 2500


def _lines_seen(job_id):
    try:
        return ImportJob.objects.get(pk=job_id).lines
    finally:
        connection.close()
