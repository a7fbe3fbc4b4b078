from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.models import Dataset
from metajudge.matching import chunks as matching
from metajudge.method.matchers import UnknownMatcher, get_matcher
from metajudge.models import Critic, MatchResult, MatchRun
from metajudge.runs import match_runs as runs
from metajudge.services.setup import endpoint_for, template_default


class Command(BaseCommand):
    # The system checks load every URL and view (about half a second): `manage.py check`,
    # runserver and migrate run them; a data command does not need them on each call.
    requires_system_checks: list[str] = []
    help = "Score a critic's rationales against the human checklists with MetaJudge."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--critic", required=True)
        parser.add_argument("--judge-model", required=True)
        parser.add_argument("--base-url", default="")
        parser.add_argument("--concurrency", type=int, default=None)
        parser.add_argument(
            "--matcher",
            choices=["llm", "offline"],
            default=None,
            help="default: llm when a base URL is known, else offline",
        )
        parser.add_argument(
            "--offline-matcher",
            choices=["semantic", "lexical"],
            default=None,
            help="with --matcher offline; default: semantic when its weights are installed",
        )
        parser.add_argument("--domain", default="")
        parser.add_argument(
            "--sync",
            action="store_true",
            help="run to completion in this process; exit 1 if a sample failed",
        )

    def handle(self, *args, **o):
        dataset = Dataset.objects.filter(name=o["dataset"]).first()
        critic = Critic.objects.filter(name=o["critic"]).first()
        if dataset is None or critic is None:
            raise CommandError(
                f"unknown {'dataset' if dataset is None else 'critic'}: "
                f"{o['dataset'] if dataset is None else o['critic']}"
            )
        run = runs.run_start(
            dataset=dataset,
            critic=critic,
            enqueue=not o["sync"],
            domain=o["domain"],
            **self._matcher(o),
        )
        if not o["sync"]:
            self.stdout.write(f"queued run {run.pk}: {run.total} samples ({run.matcher})")
            return
        run = matching.run_sync(run)
        failed = MatchResult.objects.filter(run=run, status=MatchResult.Status.ERROR).count()
        self.stdout.write(
            f"run {run.pk} {run.state}: {run.done_count}/{run.total} done, "
            f"{failed} failed, {run.calls} calls"
        )
        if failed:
            raise CommandError(f"{failed} sample(s) failed for good; see run {run.pk}")

    def _matcher(self, o) -> dict:
        matcher = o["matcher"] or (
            "llm" if o["base_url"] or settings.OPENAI_BASE_URL else "offline"
        )
        if matcher == MatchRun.Matcher.OFFLINE:
            try:
                get_matcher(o["offline_matcher"])
            except UnknownMatcher as exc:
                raise CommandError(str(exc)) from None
            return {"matcher": matcher, "concurrency": 1, "offline_matcher": o["offline_matcher"]}
        try:
            endpoint = endpoint_for(
                model=o["judge_model"], base_url=o["base_url"], concurrency=o["concurrency"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if not endpoint.base_url:
            raise CommandError("no base URL: pass --base-url or set OPENAI_BASE_URL")
        return {
            "matcher": matcher,
            "endpoint": endpoint,
            "template": template_default("metajudge"),
            "concurrency": o["concurrency"],
        }
