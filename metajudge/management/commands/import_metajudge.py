from django.core.management.base import BaseCommand, CommandError

from annotate.models import Dataset
from metajudge.services.imports import metajudge_import


class Command(BaseCommand):
    # The system checks load every URL and view (about half a second): `manage.py check`,
    # runserver and migrate run them; a data command does not need them on each call.
    requires_system_checks: list[str] = []
    help = "Import reference MetaJudge inference output (JSONL) as a run for a critic."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--critic", required=True)
        parser.add_argument("--judge", default="imported", help="name of the judge model")

    def handle(self, *args, path, dataset, critic, judge, **options):
        found = Dataset.objects.filter(name=dataset).first()
        if found is None:
            raise CommandError(f"unknown dataset '{dataset}'")
        try:
            with open(path, "rb") as stream:
                run, report = metajudge_import(
                    stream=stream, dataset=found, critic_name=critic, judge_name=judge
                )
        except OSError as exc:
            raise CommandError(f"cannot open {path}: {exc.strerror}") from None
        for line_no, reason in report.rejected:
            self.stderr.write(f"line {line_no}: {reason}")
        self.stdout.write(
            f"run {run.pk}: {report.created} results imported, "
            f"{report.rejected_count} lines rejected"
        )
