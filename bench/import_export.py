"""Import and export a synthetic HelpSteer3-scale RationaleRM file (22,116 pairs, 2 critics).

    .venv/bin/python bench/import_export.py            # SQLite and PostgreSQL
    .venv/bin/python bench/import_export.py postgres   # one backend

Prints seconds for import, re-import (idempotent: adds nothing) and export, and peak RSS
at 2,000 and at 22,116 pairs so that a memory that grows with the file shows up."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database, peak_rss_mb, setup_django  # noqa: E402

DOMAINS = ["general", "stem", "code", "multilingual"]


def synthetic_record(i: int, rng: random.Random) -> dict:
    words = "the answer uses a clear example and checks every edge case in the loop".split()
    text = lambda n: " ".join(rng.choice(words) for _ in range(n))  # noqa: E731
    pref = rng.choice([-3, -2, -1, 1, 2, 3])
    return {
        "id": f"hs3-{i:06d}",
        "domain": DOMAINS[i % 4],
        "language": "english",
        "context": [{"role": "user", "content": text(40)}],
        "response1": text(180),
        "response2": text(180),
        "overall_preference": pref,
        "individual_preference": [{"score": pref, "reasoning": text(40)} for _ in range(3)],
        "human-checklist": [f"Response {1 + (k % 2)} {text(12)}" for k in range(4)],
        **{f"critic{c}-checklist": [f"Response A {text(12)}" for _ in range(4)] for c in (1, 2)},
        **{f"critic{c}-label": rng.choice(["A", "B"]) for c in (1, 2)},
        **{f"critic{c}-generated_text": text(150) for c in (1, 2)},
    }


def write_file(n: int) -> Path:
    path = Path(tempfile.mkdtemp(prefix="ra-bench-")) / f"synthetic-{n}.jsonl"
    rng = random.Random(7)
    with path.open("w") as out:
        for i in range(n):
            out.write(json.dumps(synthetic_record(i, rng)) + "\n")
    return path


def run_backend(kind: str, n: int) -> None:
    setup_django(fresh_database(kind))
    from annotate.exports import iter_rationalerm
    from annotate.models import Dataset
    from annotate.services.imports import import_pairs

    path = write_file(n)
    size_mb = path.stat().st_size / 1e6
    timings = {}
    for label in ("import", "re-import"):
        start = time.perf_counter()
        with path.open("rb") as stream:
            report = import_pairs(stream=stream, dataset_name="bench")
        timings[label] = (time.perf_counter() - start, report.created)
    import_rss = peak_rss_mb()
    start = time.perf_counter()
    lines = 0
    with open(os.devnull, "w") as sink:  # a real sink: nothing of the output is held here
        for line in iter_rationalerm(Dataset.objects.get(name="bench")):
            lines += 1
            sink.write(line)
    export_s = time.perf_counter() - start
    print(
        f"{kind:<9} pairs={n:<6} file={size_mb:.0f}MB import={timings['import'][0]:.1f}s "
        f"(created {timings['import'][1]}) re-import={timings['re-import'][0]:.1f}s "
        f"(created {timings['re-import'][1]}) export={export_s:.1f}s ({lines} lines) "
        f"peak_rss after import={import_rss:.0f}MB, after export={peak_rss_mb():.0f}MB",
        flush=True,
    )


def main() -> None:
    if len(sys.argv) == 3:  # child: one backend, one size
        run_backend(sys.argv[1], int(sys.argv[2]))
        return
    kinds = sys.argv[1:] or ["sqlite", "postgres"]
    for kind in kinds:
        for n in (2000, 22116):  # a fresh process each, so peak RSS is per run
            subprocess.run([sys.executable, __file__, kind, str(n)], check=True)


if __name__ == "__main__":
    main()
