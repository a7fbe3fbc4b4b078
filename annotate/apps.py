from django.apps import AppConfig


class AnnotateConfig(AppConfig):
    name = "annotate"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connected here, not on import: the receiver enqueues a task (dispatch imports tasks).
        from annotate import dispatch, signals

        signals.checklists_changed.connect(dispatch.on_checklists_changed)
