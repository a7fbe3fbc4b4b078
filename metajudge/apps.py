from django.apps import AppConfig

from metajudge import sqlite_stats


class MetajudgeConfig(AppConfig):
    name = "metajudge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        sqlite_stats.install()
        # Registers the tasks with Celery in every process (web too): metajudge.dispatch sends
        # them by name. Imported here, once the models are loaded, as Django's ready() intends.
        from metajudge import tasks  # noqa: F401
