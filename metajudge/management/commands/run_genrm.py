from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.models import Dataset
from metajudge.generation import genrm, genrm_chunk
from metajudge.matching import chunks as matching
from metajudge.models import Critic, GenrmItem, GenrmRun, MatchResult, MatchRun, PromptTemplate
from metajudge.services.setup import endpoint_for


class Command(BaseCommand):
    # The system checks load every URL and view (about half a second): `manage.py check`,
    # runserver and migrate run them; a data command does not need them on each call.
    requires_system_checks: list[str] = []
    help = "Ask a GenRM (an OpenAI-compatible model) to judge every pair of a dataset as a critic."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--critic", required=True, help="created if it does not exist")
        parser.add_argument("--model", required=True)
        parser.add_argument("--base-url", default="")
        parser.add_argument("--concurrency", type=int, default=None)
        parser.add_argument("--domain", default="")
        parser.add_argument("--template", default="", help="GenRM template name (newest version)")
        parser.add_argument(
            "--atoms",
            choices=[c.value for c in GenrmRun.AtomsFrom],
            default=GenrmRun.AtomsFrom.AUTO,
            help="model atoms from the answer's reason list or an atomizer call",
        )
        parser.add_argument(
            "--atomize-think", action="store_true", help="also atomize the <think> reasoning"
        )
        parser.add_argument("--then-metajudge", choices=["offline", "llm"], default="")
        parser.add_argument("--judge-model", default="", help="for --then-metajudge llm")
        parser.add_argument("--judge-base-url", default="")
        parser.add_argument(
            "--sync",
            action="store_true",
            help="run to completion in this process; exit 1 if a sample failed",
        )

    def handle(self, *args, **o):
        dataset = Dataset.objects.filter(name=o["dataset"]).first()
        if dataset is None:
            raise CommandError(f"unknown dataset: {o['dataset']}")
        critic, _ = Critic.objects.get_or_create(
            name=o["critic"], defaults={"description": f"GenRM {o['model']}"}
        )
        try:
            run = genrm.genrm_run_start(
                dataset=dataset,
                critic=critic,
                atoms_from=o["atoms"],
                domain=o["domain"],
                atomize_think=o["atomize_think"],
                concurrency=o["concurrency"],
                enqueue=not o["sync"],
                **self._endpoints(o),
            )
        except (ValidationError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if not o["sync"]:
            self.stdout.write(f"queued genrm run {run.pk}: {run.total} pairs")
            return
        failed = run_sync(run, self.stdout)
        if failed:
            raise CommandError(f"{failed} sample(s) failed for good; see genrm run {run.pk}")

    def _endpoints(self, o) -> dict:
        endpoint = _endpoint(o["model"], o["base_url"], o["concurrency"])
        found = {"endpoint": endpoint, "chain_matcher": o["then_metajudge"]}
        if o["template"]:
            found["template"] = _template("genrm", o["template"])
        if o["then_metajudge"] == MatchRun.Matcher.LLM:
            if not o["judge_model"]:
                raise CommandError("--then-metajudge llm needs --judge-model")
            found["chain_endpoint"] = _endpoint(o["judge_model"], o["judge_base_url"], None)
        return found


def _endpoint(model: str, base_url: str, concurrency):
    try:
        endpoint = endpoint_for(model=model, base_url=base_url, concurrency=concurrency)
    except ValidationError as exc:
        raise CommandError("; ".join(exc.messages)) from None
    if not endpoint.base_url:
        raise CommandError("no base URL: pass --base-url or set OPENAI_BASE_URL")
    return endpoint


def _template(kind: str, name: str) -> PromptTemplate:
    found = PromptTemplate.objects.filter(kind=kind, name=name).order_by("-version").first()
    if found is None:
        raise CommandError(f"no {kind} template named {name!r}")
    return found


def run_sync(run: GenrmRun, out) -> int:
    """Drain the run (and its chained MetaJudge run) here, through the task code."""
    for chunk in genrm.pending_chunks(run):
        genrm_chunk.process_chunk(run_id=run.pk, pair_ids=chunk, enqueue_chain=False)
    run = genrm.genrm_run_finalize(run_id=run.pk, enqueue_chain=False)
    failed = GenrmItem.objects.filter(run=run, status=GenrmItem.Status.ERROR).count()
    out.write(
        f"{run.kind} run {run.pk} {run.state}: {run.done_count}/{run.total} done, "
        f"{failed} failed, {run.calls} calls"
    )
    if run.chained_run_id:
        match_run = run.chained_run
        match_run = matching.run_sync(match_run)
        errors = MatchResult.objects.filter(run=match_run, status=MatchResult.Status.ERROR).count()
        out.write(
            f"metajudge run {match_run.pk} {match_run.state}: "
            f"{match_run.done_count}/{match_run.total} done, {errors} failed"
        )
        failed += errors
    return failed
