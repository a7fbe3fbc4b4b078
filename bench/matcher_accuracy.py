"""Accuracy of the offline matcher on the labelled atom pairs in tests/data/atom_pairs.jsonl.

Run from the repository root: ``python bench/matcher_accuracy.py``. No Django, no network.
A pair is predicted to match when the matcher, given one human and one model atom, scores >= 0.5.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    # Run as a script, Python puts bench/ on the path, not the repository root.
    sys.path.insert(0, str(ROOT))

from metajudge.offline_matcher import predicts_match  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "atom_pairs.jsonl"


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


def main() -> None:
    pairs = load_pairs()
    result = evaluate(pairs)
    print(f"pairs: {result['pairs']}")
    print(f"accuracy: {result['accuracy']:.3f}")
    for kind, (hit, total) in result["per_kind"].items():
        print(f"  {kind:<14} {hit:>3}/{total:<3} {hit / total:.3f}")
    print(f"match class: precision {result['precision']:.3f}  recall {result['recall']:.3f}")
    if "-v" in sys.argv:
        for pair in misses(pairs):
            label = f"MISS [{pair['kind']}] expected={pair['match']}"
            print(f"{label}: {pair['human']} || {pair['model']}")


if __name__ == "__main__":
    main()
