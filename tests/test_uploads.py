"""Uploads through the API: superusers only, JSONL only, size caps, bomb refusal."""

import gzip
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotate.models import Pair

GOOD = "\n".join(
    json.dumps({"id": f"u{i}", "response1": "a", "response2": "b", "overall_preference": 2})
    for i in range(3)
).encode()


def post(client, name, content, strict=False):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post("/api/v1/datasets/up/import/", {"file": upload, "strict": strict})


def test_superuser_uploads_jsonl(as_superuser):
    body = post(as_superuser, "data.jsonl", GOOD + b"\n{bad").json()
    assert (body["created"], body["rejected"]) == (
        3,
        [{"line": 4, "reason": body["rejected"][0]["reason"]}],
    )
    assert "not valid JSON" in body["rejected"][0]["reason"]
    assert Pair.objects.filter(dataset__name="up").count() == 3


def test_strict_upload_writes_nothing(as_superuser):
    response = post(as_superuser, "data.jsonl", GOOD + b"\n[]", strict=True)
    assert response.status_code == 422 and response.json()["written"] is False
    assert not Pair.objects.exists()


def test_gzip_upload(as_superuser):
    assert post(as_superuser, "data.jsonl.gz", gzip.compress(GOOD)).json()["created"] == 3


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("data.csv", b"a,b\n", "only JSONL"),
        ("data.gz", gzip.compress(GOOD), "must be named .jsonl.gz"),
        ("data.jsonl.gz", b"\x1f\x8bnot really gzip", "unreadable upload"),
    ],
)
def test_refused_uploads(as_superuser, name, content, message):
    response = post(as_superuser, name, content)
    assert response.status_code == 400 and message in response.json()["detail"]
    assert not Pair.objects.exists()


def test_decompression_bomb_is_refused(as_superuser, settings):
    settings.IMPORT_MAX_DECOMPRESSED_BYTES = 1024 * 1024
    bomb = io.BytesIO()
    with gzip.GzipFile(fileobj=bomb, mode="wb") as gz:
        for _ in range(64):
            gz.write(b"\n" * (1024 * 1024))  # 64 MB of newlines in ~64 KB
    response = post(as_superuser, "bomb.jsonl.gz", bomb.getvalue())
    assert response.status_code == 400 and "decompression bomb" in response.json()["detail"]


def test_line_length_bomb_is_named(as_superuser, settings):
    settings.IMPORT_MAX_LINE_BYTES = 1000
    body = post(as_superuser, "long.jsonl", GOOD + b"\n" + b"x" * 50_000).json()
    assert body["created"] == 3 and body["rejected"][0]["line"] == 4
    assert "over the 1,000-byte limit" in body["rejected"][0]["reason"]


def test_upload_size_cap(as_superuser, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    response = post(as_superuser, "data.jsonl", GOOD)
    assert response.status_code == 400 and "limit is 100" in response.json()["detail"]


def test_only_superusers_upload(as_reviewer, as_annotator, db):
    assert post(as_reviewer, "data.jsonl", GOOD).status_code == 403
    assert post(as_annotator, "data.jsonl", GOOD).status_code == 403
    from django.test import Client

    assert post(Client(), "data.jsonl", GOOD).status_code in (401, 403)
