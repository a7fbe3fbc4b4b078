from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.models import Dataset
from metajudge.matching import chunks as matching
from metajudge.models import Critic, MatchResult
from metajudge.runs import match_runs as runs
from metajudge.services.setup import endpoint_for, template_default


class Command(BaseCommand):
    # The system checks load every URL and view (about half a second): `manage.py check`,
    # runserver and migrate run them; a data command does not need them on each call.
    requires_system_checks: list[str] = []
    help = (
        "Verdict mode (R-Align): ask a binary meta-judge whether each label-correct "
        "rationale names the decisive factors of the golden judgment."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--critic", required=True)
        parser.add_argument("--judge-model", required=True)
        parser.add_argument("--base-url", default="")
        parser.add_argument("--concurrency", type=int, default=None)
        parser.add_argument("--sync", action="store_true")

    def handle(self, *args, **o):
        dataset = Dataset.objects.filter(name=o["dataset"]).first()
        critic = Critic.objects.filter(name=o["critic"]).first()
        if dataset is None or critic is None:
            raise CommandError("unknown dataset or critic")
        try:
            endpoint = endpoint_for(
                model=o["judge_model"], base_url=o["base_url"], concurrency=o["concurrency"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if not endpoint.base_url:
            raise CommandError("no base URL: pass --base-url or set OPENAI_BASE_URL")
        run = runs.run_start(
            dataset=dataset,
            critic=critic,
            matcher="verdict",
            endpoint=endpoint,
            template=template_default("verdict"),
            concurrency=o["concurrency"],
            enqueue=not o["sync"],
        )
        if not o["sync"]:
            self.stdout.write(f"queued verdict run {run.pk}: {run.total} samples")
            return
        run = matching.run_sync(run)
        failed = MatchResult.objects.filter(run=run, status=MatchResult.Status.ERROR).count()
        self.stdout.write(
            f"verdict run {run.pk} {run.state}: {run.done_count}/{run.total}, {failed} failed"
        )
        if failed:
            raise CommandError(f"{failed} sample(s) failed for good")
