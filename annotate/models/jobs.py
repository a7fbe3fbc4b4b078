"""An upload imported by a worker: the file waits under VAR_DIR, the row holds the progress."""

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINISHED = (State.DONE, State.FAILED)

    dataset_name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    file_name = models.CharField(max_length=255, help_text="the uploaded file's name")
    path = models.CharField(max_length=500, help_text="the stored upload, relative to VAR_DIR")
    size = models.BigIntegerField(default=0)
    strict = models.BooleanField(default=False)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    lines = models.IntegerField(default=0, help_text="lines read so far")
    bytes_read = models.BigIntegerField(default=0, help_text="bytes of the stored file read")
    created = models.IntegerField(default=0)
    duplicates = models.IntegerField(default=0)
    rejected_count = models.IntegerField(default=0)
    rejected = models.JSONField(default=list, help_text="[line, reason] of the first rejects")
    written = models.BooleanField(null=True)
    # refused (caps, decompression bomb), unreadable (corrupt gzip) or database: nothing written
    error_kind = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"import {self.pk} into {self.dataset_name} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return min(99, self.bytes_read * 100 // self.size) if self.size else 0
