from django.apps import AppConfig

from metajudge import sqlite_stats


class MetajudgeConfig(AppConfig):
    name = "metajudge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        sqlite_stats.install()
