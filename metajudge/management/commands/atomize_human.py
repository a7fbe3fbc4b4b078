from django.core.management.base import BaseCommand, CommandError

from annotate.models import Dataset
from metajudge.generation import genrm
from metajudge.management.commands.run_genrm import _endpoint, _template, run_sync


class Command(BaseCommand):
    # The system checks load every URL and view (about half a second): `manage.py check`,
    # runserver and migrate run them; a data command does not need them on each call.
    requires_system_checks: list[str] = []
    help = (
        "Propose human atoms from annotators' free-text reasons (HelpSteer3 reasoning). "
        "They are stored as suggestions for annotators, never as the checklist itself."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--model", required=True)
        parser.add_argument("--base-url", default="")
        parser.add_argument("--concurrency", type=int, default=None)
        parser.add_argument("--domain", default="")
        parser.add_argument("--template", default="", help="atomizer template name")
        parser.add_argument(
            "--sync",
            action="store_true",
            help="run to completion in this process; exit 1 if a pair failed",
        )

    def handle(self, *args, **o):
        dataset = Dataset.objects.filter(name=o["dataset"]).first()
        if dataset is None:
            raise CommandError(f"unknown dataset: {o['dataset']}")
        run = genrm.atomize_run_start(
            dataset=dataset,
            endpoint=_endpoint(o["model"], o["base_url"], o["concurrency"]),
            template=_template("atomizer", o["template"]) if o["template"] else None,
            concurrency=o["concurrency"],
            domain=o["domain"],
            enqueue=not o["sync"],
        )
        if not o["sync"]:
            self.stdout.write(f"queued atomize run {run.pk}: {run.total} pairs")
            return
        failed = run_sync(run, self.stdout)
        if failed:
            raise CommandError(f"{failed} pair(s) failed for good; see atomize run {run.pk}")
