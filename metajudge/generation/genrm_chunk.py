"""Process one chunk of a generation run: claim its items, call the model, write the results.

As in MetaJudge matching, the calls overlap on an event loop in a helper thread and every
database write stays on the calling thread, in batches. Writes are upserts, so a chunk that
runs twice (a redelivered task) changes nothing it has not redone."""

from __future__ import annotations

from annotate.models import Pair
from metajudge.generation.genrm import genrm_run_finalize
from metajudge.generation.genrm_calls import Job, answer_all
from metajudge.generation.genrm_writes import write_outcomes
from metajudge.method.prompts import render_genrm
from metajudge.models import GenrmItem, GenrmRun
from metajudge.runs import lifecycle

S = GenrmItem.Status


def claim(
    run: GenrmRun, pair_ids: list[int], owner: str | None = None, attempt: int = 0
) -> list[GenrmItem]:
    items = GenrmItem.objects.filter(run=run, pair_id__in=pair_ids)
    return list(lifecycle.claim(items, owner, attempt))


def _jobs(run: GenrmRun, items: list[GenrmItem]) -> list[Job]:
    fields = ("pk", "context", "response_1", "response_2", "human_reasons")
    pairs = {
        p["pk"]: p for p in Pair.objects.filter(pk__in=[i.pair_id for i in items]).values(*fields)
    }
    jobs = []
    for item in items:
        pair = pairs[item.pair_id]
        job = Job(pair_id=item.pair_id)
        if run.kind == GenrmRun.Kind.GENRM:
            job.prompt = render_genrm(
                run.template.text, pair["context"], pair["response_1"], pair["response_2"]
            )
        else:
            job.rationale = "\n\n".join(
                f"Annotator {k}: {reason}" for k, reason in enumerate(pair["human_reasons"], 1)
            )
        jobs.append(job)
    return jobs


def process_chunk(
    *,
    run_id: int,
    pair_ids: list[int],
    enqueue_chain: bool = True,
    owner: str | None = None,
    attempt: int = 0,
):
    run = GenrmRun.objects.select_related(
        "endpoint", "template", "atomizer_template", "critic"
    ).get(pk=run_id)
    if not lifecycle.start_processing(GenrmRun.objects.filter(pk=run_id)):
        return None
    items = {item.pair_id: item for item in claim(run, pair_ids, owner, attempt)}
    if items:
        _drain(run, items, _jobs(run, list(items.values())))
    return genrm_run_finalize(run_id=run_id, enqueue_chain=enqueue_chain)


def _drain(run: GenrmRun, items: dict[int, GenrmItem], jobs: list[Job]) -> None:
    def write(batch):
        write_outcomes(run, [(items[job.pair_id], outcome) for job, outcome in batch])

    tokens = [item.claim_token for item in items.values()]
    lifecycle.drain(
        lambda jobs_, done, stop: answer_all(run, jobs_, done, stop),
        jobs,
        write,
        lambda: GenrmRun.objects.filter(pk=run.pk, state=GenrmRun.State.ABORTED).exists(),
        lambda: lifecycle.renew(GenrmItem.objects.filter(run=run), tokens),
    )
