"""The bulk paths: batched metajudge import, staged pair import, the report's std in SQL."""

import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.models import Checklist, Pair
from annotate.services.imports import import_pairs
from metajudge.models import Critic, Judgment, MatchResult, MatchRun
from metajudge.selectors import critic_figures
from metajudge.services import imports as mj_imports

CRITIC = "careful-judge"


def reference_rows(demo_records, answer_for):
    return [
        {"prompt": "p", "samples": [{"generated_text": answer_for(k, rec)}], "metadata": rec}
        for k, rec in enumerate(demo_records)
    ]


def answer(k, rec):
    n = len(rec["human-checklist"])
    lines = [f"- R{i}@S1: {[0, 0.25, 0.5, 0.75, 1][(i + k) % 5]}" for i in range(1, n + 1)]
    return "<RESULT_START>\n" + "\n".join(lines) + "\n<RESULT_END>"


@pytest.fixture
def demo_records(demo):
    return [json.loads(p.raw_json) for p in Pair.objects.filter(dataset=demo).order_by("position")]


def import_rows(tmp_path, rows, critic=CRITIC):
    path = tmp_path / "out.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    err = io.StringIO()
    call_command(
        "import_metajudge",
        str(path),
        dataset="demo",
        critic=critic,
        stdout=io.StringIO(),
        stderr=err,
    )
    return err.getvalue()


@pytest.mark.django_db
def test_metajudge_import_batches_give_the_same_results_as_one_batch(
    demo, demo_records, tmp_path, monkeypatch
):
    rows = reference_rows(demo_records, answer)
    rows.insert(5, {"metadata": {"id": "unknown"}, "samples": []})
    rows.append(rows[0])  # the same pair again, in a later batch: the later line wins
    import_rows(tmp_path, rows)
    whole = {
        r.pair_id: (r.status, r.recall, r.precision, r.average_precision, r.label_correct)
        for r in MatchResult.objects.all()
    }
    MatchResult.objects.all().delete()
    MatchRun.objects.all().delete()
    monkeypatch.setattr(mj_imports, "BATCH_SIZE", 3)
    err = import_rows(tmp_path, rows)
    batched = {
        r.pair_id: (r.status, r.recall, r.precision, r.average_precision, r.label_correct)
        for r in MatchResult.objects.all()
    }
    assert batched == whole and len(batched) == 32
    assert "line 6: no stored pair" in err


@pytest.mark.django_db
def test_metajudge_import_queries_do_not_grow_with_the_lines(demo, demo_records, tmp_path):
    rows = reference_rows(demo_records, answer)
    with CaptureQueriesContext(connection) as few:
        import_rows(tmp_path, rows[:4], critic="new-critic")
    MatchRun.objects.all().delete()
    with CaptureQueriesContext(connection) as many:
        import_rows(tmp_path, rows, critic="new-critic")
    assert len(many) <= len(few) + 2
    # A critic new to the store gets its judgments from the metadata, once per pair.
    assert Judgment.objects.filter(critic__name="new-critic").count() == 32


@pytest.mark.django_db
def test_report_std_equals_numpy_population_std(demo, demo_records, tmp_path):
    import_rows(tmp_path, reference_rows(demo_records, answer))
    [fig] = critic_figures(demo, critic=CRITIC)
    valid = MatchResult.objects.filter(status="valid")
    for name in ("precision", "recall", "f1", "average_precision"):
        values = np.array(list(valid.values_list(name, flat=True)), dtype=float)
        assert fig[f"{name}_std"] == pytest.approx(float(values.std()), abs=1e-9), name
        assert fig[name] == pytest.approx(float(values.mean()), abs=1e-12), name


@pytest.mark.django_db
def test_report_std_of_identical_values_is_zero(demo, demo_records, tmp_path):
    def perfect(k, rec):
        n = len(rec["human-checklist"])
        return (
            "<RESULT_START>\n"
            + "\n".join(f"- R{i}@S1: 1" for i in range(1, n + 1))
            + ("\n<RESULT_END>")
        )

    import_rows(tmp_path, reference_rows(demo_records, perfect))
    [fig] = critic_figures(demo, critic=CRITIC)
    assert fig["recall"] == 1.0
    assert fig["recall_std"] == 0.0


@pytest.mark.django_db
def test_pair_import_writes_checklists_and_judgments_of_new_keys_only(db):
    def record(i, atoms):
        return {
            "id": f"r{i}",
            "context": "q",
            "response1": "a",
            "response2": "b",
            "overall_preference": -1,
            "human-checklist": atoms,
            "c1-checklist": ["Response A is right"],
            "c1-label": "A",
        }

    first = "".join(json.dumps(record(i, [f"Response 1 point {i}"])) + "\n" for i in range(3))
    report = import_pairs(stream=io.BytesIO(first.encode()), dataset_name="d")
    assert (report.created, report.duplicates, report.critics) == (3, 0, ["c1"])
    again = first + json.dumps(record(3, [])) + "\n" + json.dumps(record(3, [])) + "\n"
    report = import_pairs(stream=io.BytesIO(again.encode()), dataset_name="d")
    assert (report.created, report.duplicates) == (1, 4)
    assert list(Pair.objects.order_by("position").values_list("key", "position")) == [
        ("r0", 1),
        ("r1", 2),
        ("r2", 3),
        ("r3", 4),
    ]
    done = Checklist.objects.get(pair__key="r1")
    assert (done.status, done.version, done.atoms) == ("submitted", 1, ["Response 1 point 1"])
    empty = Checklist.objects.get(pair__key="r3")
    assert (empty.status, empty.version, empty.atoms) == ("todo", 1, [])
    assert Judgment.objects.filter(critic=Critic.objects.get(name="c1")).count() == 4
    assert Judgment.objects.get(pair__key="r0").label == 1


@pytest.mark.django_db
def test_an_import_into_an_empty_dataset_skips_the_lookups_and_counts_a_key_written_meanwhile():
    """A dataset with no pairs holds none of the keys, so its batches are staged without a
    lookup each; a key that another import writes meanwhile is skipped and counted."""
    from annotate.models import Dataset
    from annotate.services.bulk_pairs import PairStage
    from annotate.services.imports import parse_line
    from tests.factories import PairFactory

    dataset = Dataset.objects.create(name="d")
    stage = PairStage(dataset.pk)
    assert stage.empty
    other = PairFactory(dataset=dataset, key="r0", position=7)  # another import, committed
    lines = [
        json.dumps({"id": f"r{i}", "response1": "a", "response2": "b", "overall_preference": 1})
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as queries:
        for line in lines:
            stage.add(parse_line(line), line, {})
        assert stage.write() == (2, 1)
    assert not [q for q in queries if q["sql"].startswith("SELECT") and "annotate_pair" in q["sql"]]
    assert sorted(Pair.objects.values_list("key", flat=True)) == ["r0", "r1", "r2"]
    assert Pair.objects.get(key="r0").raw_json == other.raw_json  # left as the other wrote it
    assert not PairStage(dataset.pk).empty


def test_a_new_sqlite_database_takes_16_kb_pages(tmp_path):
    """Whatever database the suite runs on: the app's SQLite settings on a new file."""
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('PRAGMA page_size'); print(c.fetchone()[0])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "16384"
