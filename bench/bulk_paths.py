"""The bulk paths at HelpSteer3 scale, side by side with the reference analysis script.

    .venv/bin/python bench/bulk_paths.py [--pairs PAIRS.jsonl] [--critics 20] [sqlite|postgres ...]

PAIRS.jsonl defaults to `../shared/data/make_scale.py 22116 2` written under /tmp (275 MB; the
file the issue's Label Studio figures were measured on). Per backend, in a fresh database
(BENCH_PG_DB names the PostgreSQL one):

1. `import_pairs` of the file, then the idempotent re-import;
2. a reference MetaJudge output for critic-00 (prompt, samples[0].generated_text, status,
   metadata = the whole record, as `metajudge_infer.py` writes it), imported by
   `import_metajudge`;
3. 19 more critics' results copied in SQL, then `metajudge_report --format json` over
   22,116 samples x 20 critics;
4. `../shared/reference/metajudge_analysis.py` on the same output file, timed in its own
   process, with its figures next to the app's for critic-00.

The import is compared here with Label Studio's figures in issue 13 (12.9-16.5 s on SQLite,
38-40 s on PostgreSQL); bench/label_studio_import.py runs Label Studio itself beside the import,
in one run, which is the comparison to quote.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, fresh_database, setup_django  # noqa: E402

SHARED = ROOT.parent / "shared"
LABEL_STUDIO_S = {"sqlite": (12.9, 16.5), "postgres": (38.0, 40.0)}
CRITIC = "critic-00"


def pairs_file(path: str | None) -> Path:
    if path:
        return Path(path)
    out = Path(tempfile.gettempdir()) / "ra-bench-pairs22k.jsonl"
    if not out.exists():
        with out.open("w") as sink:
            subprocess.run(
                [sys.executable, str(SHARED / "data" / "make_scale.py"), "22116", "2"],
                stdout=sink,
                check=True,
            )
    return out


def answer(n: int, m: int, k: int) -> str:
    levels = (0.0, 0.25, 0.5, 0.75, 1.0)
    lines = [f"- R{i}@S{(i + k) % (m + 1)}: {levels[(i * k) % 5]:.2f}" for i in range(1, n + 1)]
    return "Reasoning about each point...\n<RESULT_START>\n" + "\n".join(lines) + "\n<RESULT_END>"


def reference_output(pairs: Path) -> Path:
    out = pairs.with_name(pairs.stem + f"-{CRITIC}-metajudge.jsonl")
    if out.exists():
        return out
    with pairs.open() as source, out.open("w") as sink:
        for k, line in enumerate(source):
            record = json.loads(line)
            human, model = record["human-checklist"], record[f"{CRITIC}-checklist"]
            prompt = "Match the lists.\n" + "\n".join(
                [f"R{i + 1}: {a}" for i, a in enumerate(human)]
                + [f"S{j + 1}: {a}" for j, a in enumerate(model)]
            )
            text = answer(len(human), len(model), k)
            row = {
                "prompt": prompt,
                "samples": [{"generated_text": text, "finish_reason": "stop"}],
                "status": "success",
                "metadata": record,
            }
            sink.write(json.dumps(row) + "\n")
    return out


def timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<52} {seconds:8.2f} s", flush=True)
    return seconds, value


def copy_critics(n: int) -> None:
    """Clone critic-00's imported run n-1 times in SQL (the report reads only the stored rows)."""
    from django.db import connection

    from metajudge.models import Critic, MatchResult, MatchRun

    run = MatchRun.objects.get(critic__name=CRITIC)
    columns = [
        f.column
        for f in MatchResult._meta.concrete_fields
        if f.column not in ("id", "run_id", "judgment_id")
    ]
    for c in range(1, n):
        critic = Critic.objects.create(name=f"copy-{c:02d}")
        clone = MatchRun.objects.create(
            dataset=run.dataset, critic=critic, matcher=run.matcher, judge_model="j", state="done"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {MatchResult._meta.db_table} (run_id, {', '.join(columns)}) "
                f"SELECT %s, {', '.join(columns)} FROM {MatchResult._meta.db_table} "
                "WHERE run_id = %s",
                [clone.pk, run.pk],
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {MatchResult._meta.db_table}")


def run_backend(kind: str, pairs: Path, critics: int) -> None:
    setup_django(fresh_database(kind))
    from django.core.management import call_command

    from annotate.models import Dataset
    from annotate.services.imports import import_pairs

    def load():
        with pairs.open("rb") as stream:
            return import_pairs(stream=stream, dataset_name="scale")

    print(f"{kind}: {pairs.name} ({pairs.stat().st_size / 1e6:.0f} MB)", flush=True)
    first, report = timed("import_pairs", load)
    assert report.created == 22116 or report.created > 0, report
    timed("import_pairs again (adds nothing)", load)
    low, high = LABEL_STUDIO_S[kind]
    print(
        f"  import vs Label Studio ({low}-{high} s, issue 13): {first / high:.2f}-"
        f"{first / low:.2f}x its time (target <= 0.5x)",
        flush=True,
    )
    output = reference_output(pairs)
    dataset = Dataset.objects.get(name="scale")
    imported, _ = timed(
        "import_metajudge (22,116 samples)",
        lambda: call_command(
            "import_metajudge",
            str(output),
            dataset=dataset.name,
            critic=CRITIC,
            judge="bench",
            stdout=io.StringIO(),
        ),
    )
    copy_critics(critics)

    def report_json():
        out = io.StringIO()
        call_command("metajudge_report", dataset="scale", format="json", stdout=out)
        return json.loads(out.getvalue())

    report_s, figures = timed(f"metajudge_report ({critics} critics)", report_json)
    ref_s, ref = timed("reference metajudge_analysis.py (critic-00 only)", lambda: analysis(output))
    ours = next(f for f in figures if f["critic"] == CRITIC)
    print(
        f"  import_metajudge + report: {imported + report_s:.2f} s vs reference analysis "
        f"{ref_s:.2f} s: {(imported + report_s) / ref_s:.2f}x its time",
        flush=True,
    )
    for key in ("valid_samples", "error_samples", "precision", "recall", "f1"):
        print(f"    {key:<20} app {ours[key]!s:<22} reference {ref.get(key)!s}", flush=True)


def analysis(output: Path) -> dict:
    result = Path(tempfile.mkdtemp(prefix="ra-bench-ref-")) / "analysis.json"
    subprocess.run(
        [
            sys.executable,
            str(SHARED / "reference" / "metajudge_analysis.py"),
            "--input-file",
            str(output),
            "--model-be-evaluated",
            CRITIC,
            "--output-file",
            str(result),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    data = json.loads(result.read_text())
    return data[0] if isinstance(data, list) else data


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--child":
        run_backend(args[1], Path(args[2]), int(args[3]))
        return
    path = args[args.index("--pairs") + 1] if "--pairs" in args else None
    critics = int(args[args.index("--critics") + 1]) if "--critics" in args else 20
    kinds = [a for a in args if a in ("sqlite", "postgres")] or ["sqlite", "postgres"]
    pairs = pairs_file(path)
    for kind in kinds:  # a fresh process each
        subprocess.run(
            [sys.executable, __file__, "--child", kind, str(pairs), str(critics)], check=True
        )


if __name__ == "__main__":
    main()
