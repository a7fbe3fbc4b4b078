"""Folders the app writes to, created by the processes that need them, never by importing
settings (an import must not touch the disk: a read-only image, a typo in RATIONALE_VAR_DIR)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

_BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def ensure_dirs() -> list[Path]:
    """Create the SQLite file's folder and the filesystem broker's folders when they are used.
    Returns the folders it made sure of."""
    folders = []
    db = settings.DATABASES["default"]
    name = str(db.get("NAME") or "")
    if db["ENGINE"].endswith("sqlite3") and name and name != ":memory:" and "mode=" not in name:
        folders.append(Path(name).parent)
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        folders += [Path(options[key]) for key in _BROKER_FOLDERS if options.get(key)]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders
