"""Accuracy of the offline matcher on labelled atom pairs, and its recall on the demo critics.

Run from the repository root: ``python bench/matcher_accuracy.py [-v]``. No Django, no network.
A pair is predicted to match when the matcher, given one human and one model atom, scores >= 0.5.

- tuning set (tests/data/atom_pairs.jsonl): the pairs the matcher was tuned on;
- held-out set (tests/data/atom_pairs_heldout.jsonl): never tuned on, the honest figure;
- demo: mean recall ("rationale consistency") of the careful and the surface critic against the
  human checklists of annotate/demo/demo_pairs.jsonl, scored like a judge answer.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    # Run as a script, Python puts bench/ on the path, not the repository root.
    sys.path.insert(0, str(ROOT))

from metajudge.offline_matcher import analyse, match_answer, match_atoms, predicts_match  # noqa: E402
from metajudge.scoring import score_sample  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "atom_pairs.jsonl"
HELDOUT = ROOT / "tests" / "data" / "atom_pairs_heldout.jsonl"
DEMO = ROOT / "annotate" / "demo" / "demo_pairs.jsonl"
DEMO_CRITICS = ("careful-judge", "surface-judge")


def load_pairs(path: Path = PAIRS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(pairs: list[dict]) -> dict:
    """Overall and per-kind accuracy, plus precision and recall of the match class."""
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    tp = fp = fn = correct = 0
    for pair in pairs:
        predicted = predicts_match(pair["human"], pair["model"])
        hit = predicted == pair["match"]
        correct += hit
        per_kind[pair["kind"]][0] += hit
        per_kind[pair["kind"]][1] += 1
        tp += predicted and pair["match"]
        fp += predicted and not pair["match"]
        fn += pair["match"] and not predicted
    return {
        "accuracy": correct / len(pairs) if pairs else 0.0,
        "per_kind": {kind: (hit, total) for kind, (hit, total) in sorted(per_kind.items())},
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "pairs": len(pairs),
    }


def misses(pairs: list[dict]) -> list[dict]:
    return [p for p in pairs if predicts_match(p["human"], p["model"]) != p["match"]]


def demo_recall(critic: str, path: Path = DEMO) -> float:
    """Mean recall of one demo critic's checklist against the human checklist."""
    recalls = []
    for record in load_pairs(path):
        human, model = record["human-checklist"], record[f"{critic}-checklist"]
        score = score_sample(match_answer(human, model), len(human), len(model))
        recalls.append(score.recall or 0.0)
    return sum(recalls) / len(recalls) if recalls else 0.0


def timing_5x5(pairs: list[dict], samples: int = 60, rounds: int = 20) -> float:
    """Median ms of match_atoms on 5x5 samples of unseen atoms (word-level caches warm)."""
    rng = random.Random(0)
    picks = [rng.sample(pairs, 5) for _ in range(samples)]
    checklists = [([p["human"] for p in pick], [p["model"] for p in pick]) for pick in picks]
    for human, model in checklists:
        match_atoms(human, model)
    times = []
    for _ in range(rounds):
        for human, model in checklists:
            analyse.cache_clear()  # a reward request brings atoms the matcher has not seen
            start = time.perf_counter()
            match_atoms(human, model)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def report(title: str, pairs: list[dict], verbose: bool) -> None:
    result = evaluate(pairs)
    print(f"{title}: {result['pairs']} pairs, accuracy {result['accuracy']:.3f}")
    for kind, (hit, total) in result["per_kind"].items():
        print(f"  {kind:<14} {hit:>3}/{total:<3} {hit / total:.3f}")
    print(f"  match class: precision {result['precision']:.3f}  recall {result['recall']:.3f}")
    if verbose:
        for pair in misses(pairs):
            label = f"  MISS [{pair['kind']}] expected={pair['match']}"
            print(f"{label}: {pair['human']} || {pair['model']}")


def main() -> None:
    verbose = "-v" in sys.argv
    report("tuning set", load_pairs(PAIRS), verbose)
    report("held-out set", load_pairs(HELDOUT), verbose)
    print("demo mean recall (rationale consistency):")
    for critic in DEMO_CRITICS:
        print(f"  {critic:<14} {demo_recall(critic):.3f}")
    print(f"match_atoms 5x5, new atoms: median {timing_5x5(load_pairs(PAIRS)):.3f} ms")


if __name__ == "__main__":
    main()
