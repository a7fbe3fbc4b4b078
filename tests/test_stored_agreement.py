"""Human agreement is computed by a task and stored with the checklists' fingerprint; the
agreement page and the audit dashboard read the stored value and ask again once it changed."""

import ast
from pathlib import Path

import pytest

from annotate import dispatch
from annotate.access import REVIEWER
from annotate.models import Checklist, DatasetAgreement
from annotate.selectors_agreement import human_agreement
from tests.factories import checklist_with, join, score_offline

ROOT = Path(__file__).resolve().parents[1]


def second_checklists(dataset, n=5):
    for pair in dataset.pairs.order_by("pk")[:n]:
        atoms = Checklist.objects.get(pair=pair, slot=0).current.atoms
        checklist_with(pair, atoms[:1] or ["Response 1 is shorter."], slot=1)


@pytest.fixture
def members(demo, reviewer, annotator):
    join(demo, reviewer, role=REVIEWER)
    join(demo, annotator)
    score_offline("careful-judge", "demo")
    return demo


@pytest.mark.django_db
def test_an_import_stores_the_agreement(demo):
    stored = DatasetAgreement.objects.get(dataset=demo)
    assert stored.value["pairs"] == human_agreement(demo)["pairs"] and stored.computed_at
    state = dispatch.agreement_for(demo)
    assert state["stale"] is False and state["computed_at"] == stored.computed_at


@pytest.mark.django_db
def test_a_changed_fingerprint_is_recomputed_by_the_task(members, as_reviewer):
    before = DatasetAgreement.objects.get(dataset=members)
    second_checklists(members)
    html = as_reviewer.get("/audit/demo/").content.decode()  # eager worker: computed at once
    after = DatasetAgreement.objects.get(dataset=members)
    expected = human_agreement(members)
    assert expected["pairs"] == 5 and after.value["pairs"] == 5
    assert after.fingerprint != before.fingerprint and after.computed_at > before.computed_at
    assert f"{expected['mean_recall']:.3f}" in html and "computed <time" in html
    page = as_reviewer.get("/annotate/agreement/").content.decode()
    assert "recomputing" not in page and "<time datetime=" in page


@pytest.mark.django_db
def test_pages_read_the_stored_value_while_a_worker_is_busy(members, as_reviewer, monkeypatch):
    asked = []
    monkeypatch.setattr(dispatch.compute_agreement, "delay", asked.append)
    second_checklists(members)
    for _ in range(3):
        html = as_reviewer.get("/audit/demo/").content.decode()
        assert "checklists changed since: recomputing" in html
    assert asked == [members.pk]  # asked once per fingerprint, not per request
    state = dispatch.agreement_for(members)
    assert state["stale"] is True and state["pairs"] == 0  # the stored (older) value


@pytest.mark.django_db
def test_the_task_is_safe_to_run_twice(demo):
    second_checklists(demo)
    dispatch.compute_agreement(demo.pk)
    dispatch.compute_agreement(demo.pk)
    assert DatasetAgreement.objects.filter(dataset=demo).count() == 1
    assert dispatch.agreement_for(demo)["stale"] is False
    dispatch.compute_agreement(987654)  # a dataset deleted meanwhile: nothing to do
    assert not DatasetAgreement.objects.filter(dataset_id=987654).exists()


@pytest.mark.django_db
def test_outsiders_see_no_stored_agreement(members, as_outsider, as_annotator):
    assert as_outsider.get("/audit/demo/").status_code == 404
    assert as_annotator.get("/audit/demo/").status_code == 403
    assert "demo" not in as_outsider.get("/annotate/agreement/").content.decode()


@pytest.mark.parametrize(
    "module",
    ["dispatch.py", "tasks.py", "signals.py", "services/agreement.py", "models/agreement.py"],
)
def test_the_new_annotate_modules_import_no_metajudge(module):
    tree = ast.parse((ROOT / "annotate" / module).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    assert names and not [n for n in names if n.startswith("metajudge")]
