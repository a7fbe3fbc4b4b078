import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotate.models import Checklist, Dataset, Pair
from annotate.records import RecordError, parse_label, parse_preference
from annotate.services.imports import import_pairs
from metajudge.models import Critic, Judgment

DEMO = Path(__file__).resolve().parents[1] / "annotate" / "demo" / "demo_pairs.jsonl"


def rrm(i: int, **extra) -> dict:
    record = {
        "id": f"r{i}",
        "domain": "stem",
        "language": "english",
        "context": [{"role": "user", "content": f"What is {i}+{i}?"}],
        "response1": f"It is {2 * i}.",
        "response2": f"It is {2 * i + 1}.",
        "overall_preference": -2,
        "individual_preference": [{"score": -2, "reasoning": "Response 1 is correct."}],
        "human-checklist": [f"Response 1 gives the right sum {2 * i}."],
        "crit-checklist": ["Response A is correct."],
        "crit-label": "A",
        "crit-generated_text": "<think>hm</think>Response A is correct.",
    }
    record.update(extra)
    return record


def jsonl(*records) -> io.BytesIO:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def run_import(*records, strict=False, name="ds"):
    return import_pairs(stream=jsonl(*records), dataset_name=name, strict=strict)


@pytest.mark.django_db
class TestFormats:
    def test_rationalerm_record(self):
        report = run_import(rrm(1))
        assert (report.created, report.rejected_count, report.critics) == (1, 0, ["crit"])
        pair = Pair.objects.get()
        assert (pair.external_id, pair.domain, pair.preference, pair.preference_strength) == (
            "r1",
            "stem",
            1,
            -2,
        )
        assert pair.human_reasons == ["Response 1 is correct."]
        assert Checklist.objects.get(pair=pair, slot=0).atoms == [
            "Response 1 gives the right sum 2."
        ]
        judgment = Judgment.objects.get()
        assert (judgment.critic.name, judgment.label, judgment.atoms) == (
            "crit",
            1,
            ["Response A is correct."],
        )
        assert judgment.generated_text.startswith("<think>")

    def test_helpsteer3_record_keeps_reasons_and_has_empty_checklist(self):
        record = {
            "domain": "code",
            "language": "python",
            "context": "Fix my loop",
            "response1": "a",
            "response2": "b",
            "overall_preference": 3,
            "individual_preference": [
                {"score": 3, "reasoning": "B fixes the bug."},
                {"score": 2, "reasoning": "B is right."},
            ],
        }
        assert run_import(record).created == 1
        pair = Pair.objects.get()
        assert (pair.source_format, pair.preference, pair.preference_strength) == (
            "helpsteer3",
            2,
            3,
        )
        assert pair.human_reasons == ["B fixes the bug.", "B is right."]
        assert pair.context == [{"role": "user", "content": "Fix my loop"}]
        assert pair.key.startswith("sha256:")  # no id: content hash
        assert Checklist.objects.get(pair=pair).current is None

    def test_ralign_record(self):
        record = {
            "id": 7,
            "conversations": [{"from": "human", "value": "Hi"}],
            "response_A": "Hello!",
            "response_B": "Go away.",
            "gt_label": "A",
            "gt_judgment": "A is polite; B is rude.",
        }
        assert run_import(record).created == 1
        pair = Pair.objects.get()
        assert (pair.source_format, pair.preference, pair.key) == ("ralign", 1, "7")
        assert pair.golden_judgment == "A is polite; B is rude."
        assert pair.context == [{"role": "human", "content": "Hi"}]


@pytest.mark.parametrize(
    "value, expected",
    [
        (1, 1),
        (2, 2),
        ("1", 1),
        ("2", 2),
        ("A", 1),
        ("b", 2),
        ("Response 1", 1),
        ("Response B", 2),
        ("response a", 1),
        ("[[B]]", 2),
        (-3, 1),
        (-1, 1),
        (0, 0),
        (3, 2),
        ("-2", 1),
        (2.0, 2),
    ],
)
def test_every_label_form(value, expected):
    assert parse_label(value) == expected


@pytest.mark.parametrize("value", [None, True, "C", "Response 3", 7, -4, [1], 1.5])
def test_bad_labels_are_rejected(value):
    with pytest.raises(RecordError):
        parse_label(value)


@pytest.mark.parametrize(
    "value, expected", [(-3, (1, -3)), (0, (0, 0)), (2, (2, 2)), ("1", (2, 1))]
)
def test_preference_scale(value, expected):
    assert parse_preference(value) == expected


@pytest.mark.parametrize("value", [4, -4, 1.5, "x", None, True])
def test_preference_out_of_range(value):
    with pytest.raises(RecordError):
        parse_preference(value)


@pytest.mark.django_db
def test_reimport_adds_nothing():
    assert run_import(rrm(1), rrm(2)).created == 2
    again = run_import(rrm(1), rrm(2), rrm(3))
    assert (again.created, again.duplicates) == (1, 2)
    assert Pair.objects.count() == 3 and Judgment.objects.count() == 3


@pytest.mark.django_db
def test_same_id_in_another_dataset_is_a_new_pair():
    run_import(rrm(1), name="one")
    assert run_import(rrm(1), name="two").created == 1


@pytest.mark.django_db
def test_content_hash_dedupes_records_without_id():
    record = {"response1": "a", "response2": "b", "overall_preference": 1}
    assert run_import(record, record).created == 1


BAD_LINES = {
    "not json": "{not json",
    "array": "[1, 2]",
    "unknown format": json.dumps({"foo": 1}),
    "missing response2": json.dumps({"response1": "a", "overall_preference": 1}),
    "wrong type": json.dumps({**rrm(9), "human-checklist": "one string"}),
    "response not a string": json.dumps({**rrm(10), "response1": 5}),
    "preference out of range": json.dumps({**rrm(11), "overall_preference": 5}),
    "bad critic label": json.dumps({**rrm(12), "crit-label": "C"}),
}


@pytest.mark.django_db
def test_non_strict_keeps_good_lines_and_names_bad_ones():
    lines = [json.dumps(rrm(1)), *BAD_LINES.values(), json.dumps(rrm(2))]
    report = run_import(*lines)
    assert report.created == 2
    assert [n for n, _ in report.rejected] == list(range(2, 2 + len(BAD_LINES)))
    reasons = dict(report.rejected)
    assert "not valid JSON" in reasons[2]
    assert "unknown format" in reasons[4]
    assert "response2" in reasons[5]
    assert "human-checklist" in reasons[6]
    assert "outside -3..3" in reasons[8]
    assert "crit-label" in reasons[9]


@pytest.mark.django_db
def test_strict_writes_nothing_and_names_each_bad_line():
    lines = [json.dumps(rrm(1)), "{oops", json.dumps(rrm(2)), "[]"]
    report = run_import(*lines, strict=True)
    assert not report.written
    assert [n for n, _ in report.rejected] == [2, 4]
    assert not Pair.objects.exists() and not Critic.objects.exists()
    assert not Dataset.objects.exists()


@pytest.mark.django_db
def test_ten_megabyte_line_is_rejected_by_number(settings):
    settings.IMPORT_MAX_LINE_BYTES = 2 * 1024 * 1024
    huge = json.dumps({**rrm(5), "response1": "x" * (10 * 1024 * 1024)})
    report = run_import(rrm(1), huge, rrm(2))
    assert report.created == 2
    assert report.rejected[0][0] == 2 and "limit" in report.rejected[0][1]


@pytest.mark.django_db
def test_blank_lines_and_bad_utf8_are_handled():
    stream = io.BytesIO(json.dumps(rrm(1)).encode() + b"\n\n\xff\xfe\n")
    report = import_pairs(stream=stream, dataset_name="x")
    assert report.created == 1 and report.rejected[0][0] == 3 and "UTF-8" in report.rejected[0][1]


def export(dataset: str, fmt: str = "rationalerm", **kw) -> str:
    out = io.StringIO()
    import sys

    old = sys.stdout
    sys.stdout = out
    try:
        call_command("export_checklists", dataset=dataset, format=fmt, **kw)
    finally:
        sys.stdout = old
    return out.getvalue()


@pytest.mark.django_db
def test_round_trip_demo_twice_is_byte_identical(tmp_path):
    call_command("import_pairs", str(DEMO), dataset="demo", stdout=io.StringIO())
    call_command("import_pairs", str(DEMO), dataset="demo", stdout=io.StringIO())
    original = [json.loads(line) for line in DEMO.read_text().splitlines() if line.strip()]
    exported = [json.loads(line) for line in export("demo").splitlines()]
    assert exported == original  # field for field, in order
    assert export("demo") == "".join(
        line.strip() + "\n" for line in DEMO.read_text().splitlines() if line.strip()
    )


@pytest.mark.django_db
def test_export_uses_current_revision(annotator):
    run_import(rrm(1), name="ds")
    from tests.factories import checklist_with

    checklist_with(Pair.objects.get(), ["Response 1 adds correctly.", "Response 2 is off by one."])
    record = json.loads(export("ds"))
    assert record["human-checklist"] == ["Response 1 adds correctly.", "Response 2 is off by one."]
    assert record["crit-label"] == "A"  # everything else as imported


@pytest.mark.django_db
def test_export_filters_and_csv():
    run_import(rrm(1), rrm(2, domain="code"), name="ds")
    assert [json.loads(x)["id"] for x in export("ds", domain="code").splitlines()] == ["r2"]
    rows = export("ds", "csv").splitlines()
    assert (
        rows[0]
        == "id,domain,language,preference,human-checklist,revision,crit-label,crit-checklist"
    )
    assert rows[1].startswith("r1,stem,english,1,Response 1 gives the right sum 2.,1,1,")


@pytest.mark.django_db
def test_export_unknown_dataset_fails_clearly():
    with pytest.raises(CommandError, match="unknown dataset 'nope'"):
        export("nope")


@pytest.mark.django_db
def test_import_command_strict_exit_code(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(rrm(1)) + "\n{bad\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_pairs", str(path), dataset="d", strict=True, stderr=err)
    assert "line 2: not valid JSON" in err.getvalue()
    assert not Pair.objects.exists()


@pytest.mark.django_db
def test_import_command_missing_file():
    with pytest.raises(CommandError, match="cannot open"):
        call_command("import_pairs", "/nonexistent.jsonl", dataset="d")


@pytest.mark.django_db
def test_nul_characters_are_rejected_by_line():
    bad = json.dumps({**rrm(3), "response1": "a\x00b"})
    report = run_import(rrm(1), bad)
    assert report.created == 1 and report.rejected[0][0] == 2
    assert "NUL" in report.rejected[0][1]
