from django.apps import AppConfig

from annotate import critic_judgments, signals
from metajudge import sqlite_stats


class MetajudgeConfig(AppConfig):
    name = "metajudge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        sqlite_stats.install()
        critic_judgments.register(
            critic=self.get_model("Critic"), judgment=self.get_model("Judgment")
        )
        # Imported here, once the models are loaded, as Django's ready() intends.
        from metajudge import receivers

        signals.checklist_revised.connect(
            receivers.on_checklist_revised, dispatch_uid="metajudge.staleness"
        )
