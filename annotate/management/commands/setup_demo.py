from pathlib import Path

from django.core.management.base import BaseCommand

from annotate.access import ANNOTATOR, REVIEWER
from annotate.models import Dataset
from annotate.services.accounts import roles_ensure, user_ensure
from annotate.services.imports import import_pairs

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "demo_pairs.jsonl"
DEMO_USERS = [
    ("annotator", "annotator-demo", ANNOTATOR, False),
    ("annotator2", "annotator2-demo", ANNOTATOR, False),
    ("reviewer", "reviewer-demo", REVIEWER, False),
    ("admin", "admin-demo", None, True),
]


class Command(BaseCommand):
    help = "Load the bundled demo dataset and create one demo user per role (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", default="demo")

    def handle(self, *args, dataset, **options):
        roles_ensure()
        with DEMO_FILE.open("rb") as stream:
            report = import_pairs(stream=stream, dataset_name=dataset)
        demo = Dataset.objects.get(name=dataset)
        self.stdout.write(
            f"dataset '{dataset}': {report.created} pairs added, {report.duplicates} already there"
        )
        self._after_import(demo)
        for username, password, role, superuser in DEMO_USERS:
            user_ensure(
                username=username,
                password=password,
                role=role,
                superuser=superuser,
                datasets=[demo],
            )
            self.stdout.write(
                f"  user {username:<11} password {password:<16} role {role or 'superuser'}"
            )

    def _after_import(self, demo: Dataset) -> None:
        """Score every demo critic with the offline matcher so the audit has figures at once."""
        from metajudge.models import Critic
        from metajudge.services import runs
        from metajudge.services.setup import template_default

        template_default("metajudge")
        template_default("verdict")
        for critic in Critic.objects.filter(judgments__pair__dataset=demo).distinct():
            run = runs.run_start(dataset=demo, critic=critic, matcher="offline", enqueue=False)
            run = runs.run_sync(run)
            self.stdout.write(
                f"  offline MetaJudge run for {critic.name}: {run.done_count} samples"
            )
