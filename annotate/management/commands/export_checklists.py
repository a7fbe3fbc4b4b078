import sys

from django.core.management.base import BaseCommand, CommandError

from annotate.exports import iter_csv, iter_rationalerm
from annotate.models import Dataset


class Command(BaseCommand):
    # The system checks load every URL and view (about half a second): `manage.py check`,
    # runserver and migrate run them; a data command does not need them on each call.
    requires_system_checks: list[str] = []
    help = "Write a dataset's checklists to stdout as RationaleRM JSONL or CSV."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--format", choices=["rationalerm", "csv"], default="rationalerm")
        parser.add_argument("--domain", default="")
        parser.add_argument("--critic", default="")

    def handle(self, *args, dataset, format, domain, critic, **options):
        found = Dataset.objects.filter(name=dataset).first()
        if found is None:
            raise CommandError(f"unknown dataset '{dataset}'")
        rows = iter_csv if format == "csv" else iter_rationalerm
        out = sys.stdout
        for line in rows(found, domain=domain, critic=critic):
            out.write(line)
        out.flush()
