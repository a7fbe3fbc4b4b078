"""No CSV the app writes can start a spreadsheet formula: one rule, every writer."""

import csv
import io

import pytest

from annotate.access import REVIEWER
from annotate.csvsafe import csv_row, safe_cell
from tests.factories import join
from tests.test_import_export import export, rrm, run_import

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_dangerous_cells_become_text(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Response 1 is right.", "", 3, -3, 0.5, None, "a=b"])
def test_other_cells_stay(value):
    assert safe_cell(value) == ("" if value is None else value)
    assert csv_row(["x", -3]) == "x,-3\r\n"  # numbers are data, not formulas


@pytest.mark.django_db
def test_checklist_csv_export_defuses_every_column():
    run_import(
        rrm(
            1,
            id="=HYPERLINK(1)",
            domain="@domain",
            **{"human-checklist": ["+1 reason"], "crit-checklist": ["-1 model reason"]},
        ),
        name="ds",
    )
    table = list(csv.DictReader(io.StringIO(export("ds", "csv"))))
    row = table[0]
    assert row["id"] == "'=HYPERLINK(1)"
    assert row["domain"] == "'@domain"
    assert row["human-checklist"] == "'+1 reason"
    assert row["crit-checklist"] == "'-1 model reason"
    assert row["preference"] == "1"  # numbers untouched


@pytest.mark.django_db
def test_audit_csv_export_defuses_tab_and_cr(demo, reviewer, as_reviewer):
    from annotate.models import Pair
    from metajudge.audit.services import verdict_record
    from metajudge.models import MatchResult
    from tests.factories import score_offline

    join(demo, reviewer, role=REVIEWER)
    score_offline("careful-judge", "demo")
    first, second, third = MatchResult.objects.filter(run__dataset=demo).order_by("pk")[:3]
    Pair.objects.filter(pk=third.pair_id).update(domain="\t=1")
    verdict_record(result=first, reviewer=reviewer, kind="deceptive", comment="\t=cmd()")
    verdict_record(result=second, reviewer=reviewer, kind="deceptive", comment="-1+2")
    exported = as_reviewer.get("/api/v1/datasets/demo/audit/export/?format=csv")
    table = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    comments = {r["result_id"]: r["comment"] for r in table}
    # The verdict service trims the comment, so the tab is gone; the "=" is what matters.
    assert comments[str(first.pk)] == "'=cmd()"
    assert comments[str(second.pk)] == "'-1+2"
    assert {r["domain"] for r in table if r["result_id"] == str(third.pk)} == {"'\t=1"}
