"""The bundled demo: one dataset that works for every role and tells the paper's story.

- k = 2 checklists per pair: slot 0 holds the imported checklist, slot 1 is open, so annotators
  have work at once; `annotator2` has already submitted a second, independent checklist on 13
  pairs, so the agreement page, the review queue and the human ceiling are real.
- Four critics: careful-judge (faithful reasons), surface-judge (presentation cues),
  polished-judge (careful-judge's labels but one, with presentation cues: nearly the same
  accuracy, far lower consistency) and brief-judge (one faithful reason plus a cue).
- Every critic is scored through the offline MetaJudge path (the default matcher behind it).
All text in annotate/demo/ was written for this project."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from annotate.access import ANNOTATOR, REVIEWER
from annotate.models import Checklist, Dataset
from annotate.records import parse_label
from annotate.services.accounts import roles_ensure, user_ensure
from annotate.services.assignments import checklist_claim
from annotate.services.checklists import checklist_save, checklist_submit
from annotate.services.imports import import_pairs
from metajudge.matching import chunks as matching
from metajudge.models import Critic, Judgment, MatchRun
from metajudge.runs import match_runs as runs
from metajudge.services.setup import template_default

DEMO_DIR = Path(__file__).resolve().parents[2] / "annotate" / "demo"
DEMO_FILE = DEMO_DIR / "demo_pairs.jsonl"
CRITICS_FILE = DEMO_DIR / "demo_critics.jsonl"
SECOND_FILE = DEMO_DIR / "demo_second_checklists.jsonl"
EXTRA_CRITICS = ("polished-judge", "brief-judge")
DEMO_USERS = [
    ("annotator", "annotator-demo", ANNOTATOR, False),
    ("annotator2", "annotator2-demo", ANNOTATOR, False),
    ("reviewer", "reviewer-demo", REVIEWER, False),
    ("admin", "admin-demo", None, True),
]


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def demo_setup(*, dataset_name: str = "demo", log=print) -> Dataset:
    """Load everything (idempotent: a second call adds nothing and changes nothing)."""
    roles_ensure()
    with DEMO_FILE.open("rb") as stream:
        report = import_pairs(stream=stream, dataset_name=dataset_name)
    log(
        f"dataset '{dataset_name}': {report.created} pairs added, {report.duplicates} already there"
    )
    demo = Dataset.objects.get(name=dataset_name)
    Dataset.objects.filter(pk=demo.pk).update(checklists_per_pair=2, blind_slots=True)
    demo.refresh_from_db()
    users = {}
    for username, password, role, superuser in DEMO_USERS:
        users[username] = user_ensure(
            username=username, password=password, role=role, superuser=superuser, datasets=[demo]
        )
        log(f"  user {username:<11} password {password:<16} role {role or 'superuser'}")
    log(f"  extra critics: {demo_critics_add(dataset=demo)} judgments added")
    second = demo_second_checklists(dataset=demo, user=users["annotator2"])
    log(f"  second checklists by annotator2: {second}")
    for critic in Critic.objects.filter(judgments__pair__dataset=demo).distinct():
        run = demo_score(dataset=demo, critic=critic)
        log(f"  MetaJudge run for {critic.name}: {run.done_count} samples ({run.matcher})")
    return demo


@transaction.atomic
def demo_critics_add(*, dataset: Dataset) -> int:
    pairs = dict(dataset.pairs.values_list("key", "pk"))
    rows = []
    for record in _records(CRITICS_FILE):
        for name in EXTRA_CRITICS:
            critic, _ = Critic.objects.get_or_create(name=name)
            rows.append(
                Judgment(
                    pair_id=pairs[record["id"]],
                    critic=critic,
                    label=parse_label(record[f"{name}-label"]),
                    atoms=record[f"{name}-checklist"],
                    generated_text=record[f"{name}-generated_text"],
                    source="import",
                )
            )
    before = Judgment.objects.filter(pair__dataset=dataset).count()
    Judgment.objects.bulk_create(rows, ignore_conflicts=True)
    return Judgment.objects.filter(pair__dataset=dataset).count() - before


def demo_second_checklists(*, dataset: Dataset, user) -> int:
    """A second annotator's own checklists, written through the same services as the editor."""
    pairs = dict(dataset.pairs.values_list("key", "pk"))
    done = 0
    for record in _records(SECOND_FILE):
        pair = dataset.pairs.get(pk=pairs[record["id"]])
        if Checklist.objects.filter(pair=pair, owner=user).exclude(current=None).exists():
            continue
        checklist = checklist_claim(user=user, pair=pair)
        if checklist is None:
            continue
        saved = checklist_save(
            checklist_id=checklist.pk, user=user, atoms=record["atoms"], version=checklist.version
        ).checklist
        checklist_submit(checklist_id=saved.pk, user=user, version=saved.version)
        done += 1
    return done


def demo_score(*, dataset: Dataset, critic: Critic) -> MatchRun:
    template_default("metajudge")
    template_default("verdict")
    run = runs.run_start(dataset=dataset, critic=critic, matcher="offline", enqueue=False)
    return matching.run_sync(run)
