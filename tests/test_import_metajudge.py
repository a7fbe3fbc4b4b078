"""Imported reference MetaJudge output gives the figures the reference analysis gives."""

import io
import json

import numpy as np
import pytest
from django.core.management import call_command

from metajudge.models import MatchResult
from metajudge.services.demo import DEMO_FILE

CRITIC = "careful-judge"


def answer(lines):
    return "thinking...\n<RESULT_START>\n" + "\n".join(lines) + "\n<RESULT_END>"


def reference_analysis(rows, critic, max_len=10, cap=5):
    """An independent, loop-style restatement of the reference analysis script's rules."""
    import re

    vals, errors = [], 0
    for row in rows:
        text = row["samples"][0]["generated_text"] if row.get("samples") else None
        if text is None:
            errors += 1
            continue
        block = re.search(r"<RESULT_START>(.*?)<RESULT_END>", text, re.DOTALL)
        found = re.findall(r"- R(\d+)@S(\d+): (\d+(?:\.\d+)?)", block.group(1)) if block else []
        scores = [(int(a), int(b), float(c)) for a, b, c in found]
        if not block or not scores or any(not 0 <= s <= 1 for *_, s in scores):
            errors += 1
            continue
        n, m = len(row["metadata"]["human-checklist"]), len(row["metadata"][f"{critic}-checklist"])
        if m == 0 or m > max_len:
            continue
        if len(scores) != n:
            errors += 1
            continue
        mm = min(m, cap)
        kept = [(i, j, s) for i, j, s in scores if j != 0 and i <= n and j <= mm]
        best_i, best_j = {}, {}
        for i, j, s in kept:
            best_i[i] = max(best_i.get(i, 0), s)
            best_j[j] = max(best_j.get(j, 0), s)
        r = sum(best_i.values()) / n
        p = sum(best_j.values()) / mm
        order = sorted(best_j)
        ap = sum(sum(best_j[x] for x in order[: k + 1]) / (k + 1) for k in range(len(order))) / n
        f1 = 0 if p + r == 0 else 2 * p * r / (p + r)
        vals.append((p, r, f1, ap))
    arr = np.array(vals)
    return {
        "total_samples": len(rows),
        "valid_samples": len(vals),
        "error_samples": errors,
        "precision": arr[:, 0].mean(),
        "recall": arr[:, 1].mean(),
        "f1": arr[:, 2].mean(),
        "average_precision": arr[:, 3].mean(),
    }


def build_rows():
    records = [json.loads(x) for x in DEMO_FILE.read_text().splitlines() if x.strip()]
    rows = []
    for k, rec in enumerate(records):
        n, m = len(rec["human-checklist"]), len(rec[f"{CRITIC}-checklist"])
        lines = [
            f"- R{i}@S{(i + k) % (m + 1)}: {[0, 0.25, 0.5, 0.75, 1][(i * k) % 5]}"
            for i in range(1, n + 1)
        ]
        text = answer(lines)
        if k == 3:
            text = "no tags at all"
        if k == 5:
            text = answer(lines[:-1]) if n > 1 else answer(lines + lines)  # count mismatch
        if k == 7:
            text = answer(["- R1@S1: 1.5"] + lines[1:])  # out of range
        if k == 9:
            rec = {**rec, f"{CRITIC}-checklist": [f"Response A point {x}" for x in range(12)]}
        rows.append(
            {
                "prompt": "p",
                "samples": [{"generated_text": text}],
                "status": "success",
                "metadata": rec,
            }
        )
    rows.append({"prompt": "p", "samples": [], "status": "failed", "metadata": records[10]})
    return rows


@pytest.mark.django_db
def test_imported_output_reproduces_reference_figures(demo, tmp_path):
    rows = build_rows()
    path = tmp_path / "out.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    call_command(
        "import_metajudge",
        str(path),
        dataset="demo",
        critic=CRITIC,
        judge="qwen-judge",
        stdout=io.StringIO(),
    )
    out = io.StringIO()
    call_command("metajudge_report", dataset="demo", critic=CRITIC, format="json", stdout=out)
    [fig] = json.loads(out.getvalue())
    # The 33rd line re-imports pair 11's sample (no answer): one result per pair, the later wins.
    expected = reference_analysis(rows[:10] + rows[11:], CRITIC)
    assert fig["total_samples"] == 32 == expected["total_samples"]
    assert fig["valid_samples"] == expected["valid_samples"]
    assert fig["error_samples"] == expected["error_samples"]
    for key in ("precision", "recall", "f1", "average_precision"):
        assert fig[key] == pytest.approx(expected[key], abs=1e-12), key
    assert fig["skipped_samples"] == 1


@pytest.mark.django_db
def test_unmatched_and_bad_lines_are_named(demo, tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text('{bad\n{"metadata": {"id": "nope"}, "samples": []}\n')
    err = io.StringIO()
    call_command(
        "import_metajudge",
        str(path),
        dataset="demo",
        critic=CRITIC,
        stdout=io.StringIO(),
        stderr=err,
    )
    assert "line 1: not valid JSON" in err.getvalue()
    assert "line 2: no stored pair" in err.getvalue()
    assert not MatchResult.objects.exists()
