"""Accuracy of the offline matchers on labelled atom pairs, their recall on the demo critics,
and their speed. Run from the repository root: ``python bench/matcher_accuracy.py [-v]``.
No Django, no network.

Sets (tests/data/):
- atom_pairs.jsonl: the tuning set (the lexical matcher's weights and the semantic matcher's
  level bounds were chosen on it);
- atom_pairs_heldout.jsonl: written before the lexical matcher was tuned, binary labels;
- atom_pairs_dev.jsonl: a development set of the v2 kind (another author), open for tuning;
- atom_pairs_heldout_v2.jsonl: written by a separate author before the semantic matcher existed,
  of another kind (low-overlap paraphrases and high-overlap traps, four domains, six languages),
  with five-level gold scores; never tuned on (``--dev`` leaves it out).

A binary pair "matches" when the matcher, given one human and one model atom, scores >= 0.5; on
v2 the issue's rule is gold >= 0.75 against a predicted score >= 0.75 (both also shown at 0.5).
difflib's ratio is printed as a floor for comparison.
"""

from __future__ import annotations

import difflib
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

from metajudge.method.matchers import available_names, get_matcher  # noqa: E402
from metajudge.method.scoring import SCORE_LEVELS, score_sample  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = (
    ("tuning set", DATA / "atom_pairs.jsonl"),
    ("held-out set", DATA / "atom_pairs_heldout.jsonl"),
    ("dev set (v2 kind, tunable)", DATA / "atom_pairs_dev.jsonl"),
    ("held-out v2", DATA / "atom_pairs_heldout_v2.jsonl"),
)
DEMO = ROOT / "annotate" / "demo" / "demo_pairs.jsonl"
DEMO_CRITICS = ("careful-judge", "surface-judge")


def load_pairs(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class Difflib:
    name = label = "difflib ratio (floor)"

    def prepare(self, texts):
        return None

    def match_lines(self, human, model):
        ratio = difflib.SequenceMatcher(None, human[0].lower(), model[0].lower()).ratio()
        level = max(
            (s for s in SCORE_LEVELS if ratio >= 0.3 + 0.1 * SCORE_LEVELS.index(s)), default=0.0
        )
        return [(1, 1, level)]


def scores(matcher, pairs: list[dict]) -> list[float]:
    matcher.prepare([t for p in pairs for t in (p["human"], p["model"])])
    return [matcher.match_lines([p["human"]], [p["model"]])[0][2] for p in pairs]


def binary(pairs, predicted, gold_at=None, at=0.5) -> dict:
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    tp = fp = fn = correct = 0
    for pair, score in zip(pairs, predicted, strict=True):
        truth = pair["gold"] >= gold_at if gold_at is not None else pair["match"]
        guess = score >= at
        correct += guess == truth
        per_kind[pair["kind"]][0] += guess == truth
        per_kind[pair["kind"]][1] += 1
        tp, fp, fn = tp + (guess and truth), fp + (guess and not truth), fn + (truth and not guess)
    return {
        "accuracy": correct / len(pairs),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "per_kind": dict(sorted(per_kind.items())),
    }


def levels(pairs, predicted) -> dict:
    steps = [
        abs(SCORE_LEVELS.index(p["gold"]) - SCORE_LEVELS.index(s))
        for p, s in zip(pairs, predicted, strict=True)
    ]
    return {
        "exact": steps.count(0) / len(steps),
        "within_one": sum(s <= 1 for s in steps) / len(steps),
        "mean_abs": statistics.mean(
            abs(p["gold"] - s) for p, s in zip(pairs, predicted, strict=True)
        ),
    }


def report(matcher, title: str, pairs: list[dict], verbose: bool) -> None:
    predicted = scores(matcher, pairs)
    graded = "gold" in pairs[0]
    result = binary(pairs, predicted, 0.75, 0.75) if graded else binary(pairs, predicted)
    rule = "gold>=0.75 vs score>=0.75" if graded else "match vs score>=0.5"
    print(
        f"  {title}: {len(pairs)} pairs, accuracy {result['accuracy']:.3f} ({rule}); "
        f"match precision {result['precision']:.3f} recall {result['recall']:.3f}"
    )
    for kind, (hit, total) in result["per_kind"].items():
        print(f"      {kind:<14} {hit:>3}/{total:<3} {hit / total:.3f}")
    if graded:
        half = binary(pairs, predicted, 0.5, 0.5)
        lv = levels(pairs, predicted)
        print(
            f"      at 0.5 (gold>=0.5 vs score>=0.5): accuracy {half['accuracy']:.3f}, "
            f"precision {half['precision']:.3f}, recall {half['recall']:.3f}"
        )
        print(
            f"      score levels: exact {lv['exact']:.3f}, within one level "
            f"{lv['within_one']:.3f}, mean |gold - score| {lv['mean_abs']:.3f}"
        )
        by_language: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for pair, score in zip(pairs, predicted, strict=True):
            lang = "en" if pair["language"] == "en" else "other"
            by_language[lang][0] += (score >= 0.75) == (pair["gold"] >= 0.75)
            by_language[lang][1] += 1
        print(
            "      by language: "
            + ", ".join(f"{k} {h}/{n} {h / n:.3f}" for k, (h, n) in sorted(by_language.items()))
        )
    if verbose:
        for pair, score in zip(pairs, predicted, strict=True):
            truth = pair.get("gold", 1.0 if pair.get("match") else 0.0)
            if (score >= 0.5) != (truth >= 0.5):
                print(
                    f"      MISS [{pair['kind']}] gold={truth} got={score}: "
                    f"{pair['human']} || {pair['model']}"
                )


def demo_recall(matcher, critic: str) -> float:
    recalls = []
    for record in load_pairs(DEMO):
        human, model = record["human-checklist"], record[f"{critic}-checklist"]
        score = score_sample(matcher.match(human, model), len(human), len(model))
        recalls.append(score.recall or 0.0)
    return sum(recalls) / len(recalls) if recalls else 0.0


def speed(matcher, pairs: list[dict], samples: int = 200) -> float:
    """5x5 samples per second on atoms the matcher has not seen (one batch prepare per run)."""
    rng = random.Random(0)
    picks = [rng.sample(pairs, 10) for _ in range(samples)]
    checklists = [
        ([f"{p['human']} ({k})" for p in pick[:5]], [f"{p['model']} ({k})" for p in pick[5:]])
        for k, pick in enumerate(picks)
    ]
    start = time.perf_counter()
    matcher.prepare([t for h, m in checklists for t in h + m])
    for human, model in checklists:
        matcher.match_lines(human, model)
    return samples / (time.perf_counter() - start)


def main() -> None:
    verbose = "-v" in sys.argv
    # --dev leaves v2 out: it is measured, never looked at while the matcher changes.
    chosen = SETS[:3] if "--dev" in sys.argv else SETS
    sets = [(title, load_pairs(path)) for title, path in chosen]
    everything = [p for _, pairs in sets for p in pairs]
    for name in available_names():
        start = time.perf_counter()
        matcher = get_matcher(name)
        matcher.prepare(["warm up"])
        loaded = time.perf_counter() - start
        print(f"{matcher.label} (load {loaded:.2f} s)")
        for title, pairs in sets:
            report(matcher, title, pairs, verbose)
        recalls = ", ".join(f"{c} {demo_recall(matcher, c):.3f}" for c in DEMO_CRITICS)
        print(f"  demo mean recall: {recalls}")
        print(f"  speed: {speed(matcher, everything):.0f} samples/s (5x5 atoms, unseen)")
    floor = Difflib()
    print(floor.label)
    for title, pairs in sets:
        report(floor, title, pairs, False)


if __name__ == "__main__":
    main()
