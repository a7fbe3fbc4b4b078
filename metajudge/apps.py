from django.apps import AppConfig


class MetajudgeConfig(AppConfig):
    name = "metajudge"
    default_auto_field = "django.db.models.BigAutoField"
