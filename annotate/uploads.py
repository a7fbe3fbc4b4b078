"""Uploaded JSONL: size-capped, plain or gzip, with a cap on what gzip may inflate to."""

from __future__ import annotations

import gzip
import io
from typing import BinaryIO

from django.conf import settings


class UploadRefused(ValueError):
    """An upload that is not imported at all; the message says why."""


class CappedReader(io.RawIOBase):
    """Reads through `inner` and refuses to deliver more than `limit` bytes in total."""

    def __init__(self, inner: BinaryIO, limit: int) -> None:
        self.inner, self.limit, self.count = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise UploadRefused(
                f"the upload inflates to more than {self.limit:,} bytes (a decompression bomb?)"
            )
        buffer[: len(data)] = data
        return len(data)


def open_upload(name: str, stream: BinaryIO, size: int | None) -> BinaryIO:
    """A binary stream of JSONL lines, or UploadRefused."""
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if size is not None and size > limit:
        raise UploadRefused(f"the upload is {size:,} bytes; the limit is {limit:,}")
    lowered = name.lower()
    head = stream.read(2)
    stream.seek(0)
    if lowered.endswith((".jsonl.gz", ".ndjson.gz")) or head == b"\x1f\x8b":
        if not lowered.endswith((".jsonl.gz", ".ndjson.gz")):
            raise UploadRefused("a gzip file must be named .jsonl.gz")
        inflated = gzip.GzipFile(fileobj=stream, mode="rb")
        capped = CappedReader(inflated, settings.IMPORT_MAX_DECOMPRESSED_BYTES)
        return io.BufferedReader(capped, buffer_size=1 << 16)
    if not lowered.endswith((".jsonl", ".ndjson")):
        raise UploadRefused("only JSONL files (.jsonl, .ndjson, or .jsonl.gz) are accepted")
    return stream
