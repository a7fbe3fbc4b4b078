"""Pins every MetaJudge scoring rule with hand-computed cases (no Django needed)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metajudge.method.scoring import (
    ERROR,
    SKIPPED,
    VALID,
    SampleScore,
    aggregate,
    atom_mode_scorr,
    grammar_problem,
    label_accuracy,
    outcome_correct,
    parse_answer,
    rationale_consistency,
    render_answer,
    score_lines,
    score_sample,
    verdict_is_correct,
    verdict_mode,
    visible_rationale,
)


def block(*lines: str) -> str:
    return "<RESULT_START>\n" + "\n".join(lines) + "\n<RESULT_END>"


# --- rule 1: parse errors -------------------------------------------------------------------


def test_only_first_result_block_counts():
    text = block("- R1@S1: 1.00") + "\n" + block("- R1@S1: 0.00", "- R2@S2: 0.00")
    assert parse_answer(text).lines == ((1, 1, 1.0),)


def test_block_may_span_lines_and_carry_prose():
    text = "thinking...\n<RESULT_START>\nnotes\n- R1@S2: 0.75\nmore\n- R2@S0: 0\n<RESULT_END>"
    assert parse_answer(text) == parse_answer(block("- R1@S2: 0.75", "- R2@S0: 0"))
    assert parse_answer(text).lines == ((1, 2, 0.75), (2, 0, 0.0))


@pytest.mark.parametrize(
    "text",
    [
        None,
        "- R1@S1: 1.00",
        "<RESULT_START>\n- R1@S1: 1.00\n",
        "- R1@S1: 1.00\n<RESULT_END>",
        "<RESULT_END>- R1@S1: 1.00<RESULT_START>",
    ],
)
def test_missing_block_or_failed_call_is_an_error(text):
    assert parse_answer(text).error is not None
    assert score_sample(text, 1, 1).status == ERROR


def test_failed_call_flag_wins_over_text():
    assert score_sample(block("- R1@S1: 1"), 1, 1, call_failed=True).status == ERROR


def test_block_without_score_line_is_an_error():
    text = block("R1 matches S1 perfectly", "- R1 @ S1: 1.0")
    assert parse_answer(text).error is not None
    assert score_sample(text, 1, 1).status == ERROR


def test_score_above_one_is_an_error():
    text = block("- R1@S1: 1.5")
    assert parse_answer(text).error is not None
    assert score_sample(text, 1, 1).status == ERROR


def test_parse_error_wins_over_skip():
    # Rule order: a broken answer is an error even when the sample would be skipped.
    assert score_sample(block("- R1@S1: 2"), 1, 0).status == ERROR
    assert score_sample(None, 1, 11).status == ERROR


# --- rules 2 and 3: skips and count errors ---------------------------------------------------


def test_no_model_atoms_is_skipped():
    score = score_sample(block("- R1@S0: 0"), 1, 0)
    assert score.status == SKIPPED
    assert score.recall is None


def test_too_many_model_atoms_is_skipped_but_ten_is_valid():
    text = block("- R1@S1: 1")
    assert score_sample(text, 1, 11).status == SKIPPED
    assert score_sample(text, 1, 10).status == VALID
    assert score_sample(text, 1, 11, max_checklist_len=11).status == VALID


def test_skip_wins_over_count_mismatch():
    assert score_sample(block("- R1@S1: 1", "- R2@S1: 1"), 1, 0).status == SKIPPED


def test_line_count_must_equal_human_atoms():
    text = block("- R1@S1: 1", "- R2@S2: 1")
    assert score_sample(text, 3, 2).status == ERROR
    assert score_sample(text, 1, 2).status == ERROR
    assert score_sample(text, 2, 2).status == VALID


# --- rule 4: the metrics ---------------------------------------------------------------------


def test_s0_lines_are_ignored():
    score = score_sample(block("- R1@S0: 1", "- R2@S1: 0.5"), 2, 1)
    assert score.recall == 0.5 / 2
    assert score.precision == 0.5 / 1


def test_human_index_beyond_n_is_ignored():
    score = score_sample(block("- R1@S1: 0.5", "- R3@S2: 1"), 2, 2)
    assert score.recall == 0.5 / 2
    assert score.precision == 0.5 / 2


def test_r0_lines_are_kept_because_reference_only_drops_i_above_n():
    score = score_sample(block("- R0@S1: 1", "- R1@S2: 0.5"), 2, 2)
    assert score.recall == (1 + 0.5) / 2


def test_model_index_beyond_cap_is_ignored():
    # m = 7, so m' = 5: S6 and S7 never count and precision divides by 5.
    text = block("- R1@S6: 1", "- R2@S2: 0.75", "- R3@S7: 1")
    score = score_sample(text, 3, 7)
    assert score.recall == 0.75 / 3
    assert score.precision == 0.75 / 5
    assert score_sample(text, 3, 7, precision_cap=7).recall == 2.75 / 3


def test_model_index_beyond_m_is_ignored():
    score = score_sample(block("- R1@S3: 1", "- R2@S1: 0.25"), 2, 2)
    assert score.recall == 0.25 / 2
    assert score.precision == 0.25 / 2


def test_duplicate_model_atom_keeps_best_score():
    score = score_sample(block("- R1@S2: 0.25", "- R2@S2: 1", "- R3@S1: 0.5"), 3, 2)
    assert score.recall == (0.25 + 1 + 0.5) / 3
    assert score.precision == (1 + 0.5) / 2


def test_duplicate_human_atom_keeps_best_score():
    score = score_sample(block("- R1@S1: 0.25", "- R1@S2: 0.75"), 2, 2)
    assert score.recall == 0.75 / 2
    assert score.precision == (0.25 + 0.75) / 2


def test_average_precision_worked_example():
    # kept j sorted [1, 2] with best scores b = [0.5, 1]; AP = (0.5/1 + 1.5/2) / 3.
    score = score_sample(block("- R1@S2: 1", "- R2@S1: 0.5", "- R3@S0: 0"), 3, 2)
    assert score.average_precision == pytest.approx((0.5 / 1 + 1.5 / 2) / 3)
    assert score.recall == 1.5 / 3
    assert score.precision == 1.5 / 2
    p, r = 1.5 / 2, 1.5 / 3
    assert score.f1 == pytest.approx(2 * p * r / (p + r))


def test_average_precision_orders_by_model_index_not_answer_order():
    # b = [1 (S1), 0 (S3), 0.5 (S4)] -> (1/1 + 1/2 + 1.5/3) / 3.
    text = block("- R1@S4: 0.5", "- R2@S3: 0", "- R3@S1: 1")
    assert score_sample(text, 3, 4).average_precision == pytest.approx((1 + 0.5 + 0.5) / 3)


def test_f1_is_zero_when_nothing_matches():
    score = score_sample(block("- R1@S1: 0", "- R2@S2: 0.00"), 2, 2)
    assert (score.precision, score.recall, score.f1) == (0.0, 0.0, 0.0)


def test_no_kept_line_gives_zeros():
    assert score_lines([(1, 0, 0.0), (2, 9, 1.0)], 2, 3) == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "average_precision": 0.0,
    }


# --- rule 5: aggregation ---------------------------------------------------------------------


def test_aggregate_means_and_population_std_match_numpy():
    texts = [
        (block("- R1@S1: 1", "- R2@S0: 0"), 2, 1),
        (block("- R1@S2: 0.5", "- R2@S1: 0.75"), 2, 3),
        (block("- R1@S1: 0.25"), 1, 4),
        (block("- R1@S1: 0.25"), 1, 0),  # skipped
        (None, 1, 1),  # error
        (block("- R1@S1: 0.25"), 2, 1),  # count error
    ]
    scores = [score_sample(t, n, m) for t, n, m in texts]
    figures = aggregate(scores)
    assert figures["total_samples"] == 6
    assert figures["valid_samples"] == 3
    assert figures["skipped_samples"] == 1
    assert figures["error_samples"] == 2
    for name in ("precision", "recall", "f1", "average_precision"):
        values = np.array([getattr(s, name) for s in scores if s.status == VALID])
        assert figures[name] == pytest.approx(float(values.mean()))
        assert figures[f"{name}_std"] == pytest.approx(float(values.std()))
    assert figures["recall"] == pytest.approx((0.5 + 1.25 / 2 + 0.25) / 3)


def test_aggregate_of_nothing_is_zero():
    figures = aggregate([SampleScore(ERROR, error="x")])
    assert figures["valid_samples"] == 0
    assert figures["recall"] == 0.0
    assert figures["recall_std"] == 0.0


# --- rule 6: outcome, consistency and spurious correctness -----------------------------------


def test_outcome_correct_excludes_ties_and_unknown():
    assert outcome_correct(1, 1) is True
    assert outcome_correct(2, 1) is False
    assert outcome_correct(None, 2) is False
    assert outcome_correct(1, 0) is None
    assert outcome_correct(1, None) is None
    assert label_accuracy([True, False, None, True, None]) == 2 / 3
    assert label_accuracy([None]) == 0.0


def test_rationale_consistency_is_mean_recall_of_valid_samples():
    scores = [
        score_sample(block("- R1@S1: 1", "- R2@S0: 0"), 2, 1),
        score_sample(block("- R1@S1: 0.25"), 1, 1),
        score_sample(None, 1, 1),
    ]
    assert rationale_consistency(scores) == pytest.approx((0.5 + 0.25) / 2)
    assert rationale_consistency([]) == 0.0


def test_atom_mode_scorr_counts_valid_label_correct_only():
    low = SampleScore(VALID, precision=0.2, recall=0.2, f1=0.2, average_precision=0.2)
    half = SampleScore(VALID, precision=0.5, recall=0.5, f1=0.5, average_precision=0.5)
    items = [
        (True, low),  # spurious
        (True, half),  # recall == threshold is not spurious
        (False, low),  # wrong label: not counted
        (None, low),  # tie: not counted
        (True, SampleScore(ERROR, error="x")),  # invalid: not counted
        (True, SampleScore(SKIPPED)),
    ]
    assert atom_mode_scorr(items) == {"label_correct": 2, "spurious_correct": 1, "s_corr": 0.5}
    assert atom_mode_scorr(items, threshold=0.6)["s_corr"] == 1.0
    assert atom_mode_scorr([(False, low)]) == {
        "label_correct": 0,
        "spurious_correct": 0,
        "s_corr": 0.0,
    }


def test_visible_rationale_drops_everything_before_last_think_close():
    assert visible_rationale("<think>a</think>b</think>  shown \n") == "shown"
    assert visible_rationale("  no thinking here ") == "no thinking here"


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [("Correct", True), ("  correct\n", True), ("Incorrect", False), ("correct.", False)],
)
def test_verdict_is_correct_is_exact(verdict, expected):
    assert verdict_is_correct(verdict) is expected


def test_verdict_mode_scorr_and_fscore():
    assert verdict_mode(3, 1, 0.8) == pytest.approx({"s_corr": 0.25, "f_score": 0.8 * 0.75})
    assert verdict_mode(0, 0, 0.7) == {"s_corr": 0.0, "f_score": 0.7}


# --- rendering and the strict grammar check --------------------------------------------------


def test_render_answer_round_trips():
    lines = [(1, 2, 0.75), (2, 0, 0.0), (3, 1, 1.0)]
    text = render_answer(lines)
    assert text == "<RESULT_START>\n- R1@S2: 0.75\n- R2@S0: 0.00\n- R3@S1: 1.00\n<RESULT_END>"
    assert parse_answer(text).lines == tuple(lines)
    assert grammar_problem(text, 3) is None


@pytest.mark.parametrize(
    ("text", "n"),
    [
        (block("- R1@S1: 0", "- R2@S2: 0.50"), 2),
        (block("- R1@S1: 0.0", "- R2@S2: 1.00"), 2),
        (block("- R1@S1: 1", "- R2@S0: 0.25", "- R3@S1: 0.75"), 3),
    ],
)
def test_grammar_accepts_well_formed_answers(text, n):
    assert grammar_problem(text, n) is None


@pytest.mark.parametrize(
    ("text", "n"),
    [
        (None, 1),
        ("- R1@S1: 1", 1),
        (block("R1 S1 1"), 1),
        (block("- R1@S1: 1.5"), 1),
        (block("- R1@S1: 1"), 2),  # count
        (block("- R2@S1: 1", "- R1@S1: 1"), 2),  # order
        (block("- R1@S1: 1", "- R1@S2: 1"), 2),  # repeated R1
        (block("- R1@S1: 1", "- R3@S2: 1"), 2),  # gap
        (block("- R1@S1: 0.3"), 1),  # off the five levels
    ],
)
def test_grammar_rejects_bad_answers(text, n):
    assert grammar_problem(text, n) is not None


# --- robustness and an independent cross-check -----------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.text()), st.integers(0, 20), st.integers(0, 20))
def test_parsing_never_raises_on_arbitrary_text(text, n, m):
    parse_answer(text)
    grammar_problem(text, n)
    assert score_sample(text, n, m).status in (VALID, SKIPPED, ERROR)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 25), st.integers(0, 25), st.sampled_from(["0", "1", "0.5"]))),
    st.integers(0, 20),
    st.integers(0, 20),
)
def test_scoring_never_raises_on_arbitrary_lines(lines, n, m):
    text = block(*(f"- R{i}@S{j}: {s}" for i, j, s in lines))
    score = score_sample(text, n, m)
    if score.status == VALID:
        assert 0.0 <= score.recall <= 1.0
        assert 0.0 <= score.precision <= 1.0


def reference_score(text, n, m):
    """A plain re-statement of the reference script, kept deliberately loop-shaped."""
    import re

    found = re.search(r"<RESULT_START>(.*?)<RESULT_END>", text, re.DOTALL)
    if not found:
        return "error"
    lines = re.findall(r"- R(\d+)@S(\d+): (\d+(?:\.\d+)?)", found.group(1))
    if not lines:
        return "error"
    for _, _, s in lines:
        if float(s) < 0 or float(s) > 1:
            return "error"
    if m == 0 or m > 10:
        return "skipped"
    if len(lines) != n:
        return "error"
    cap = m if m < 5 else 5
    r_best = {}
    s_best = {}
    for i, j, s in lines:
        i, j, s = int(i), int(j), float(s)
        if j == 0 or i > n or j > cap:
            continue
        if i not in r_best or s > r_best[i]:
            r_best[i] = s
        if j not in s_best or s > s_best[j]:
            s_best[j] = s
    if not r_best:
        return (0.0, 0.0, 0.0, 0.0)
    recall = 0.0
    for value in r_best.values():
        recall += value
    recall = recall / n
    precision = 0.0
    for value in s_best.values():
        precision += value
    precision = precision / cap
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    ap = 0.0
    cumulative = 0.0
    k = 0
    for j in sorted(s_best.keys()):
        k += 1
        cumulative += s_best[j]
        ap += cumulative / k
    ap = ap / n
    return (precision, recall, f1, ap)


def random_answer(rng: random.Random) -> tuple[str, int, int]:
    n = rng.randint(0, 8)
    m = rng.randint(0, 12)
    count = n if rng.random() < 0.8 else rng.randint(0, 9)
    levels = ["0", "0.25", "0.5", "0.75", "1", "1.00", "0.50", "0.3", "0.67", "1.5"]
    rows = []
    for k in range(count):
        i = k + 1 if rng.random() < 0.9 else rng.randint(0, n + 2)
        j = rng.randint(0, m + 2)
        weights = [20] * 7 + [3, 3, 1]
        rows.append(f"- R{i}@S{j}: {rng.choices(levels, weights)[0]}")
    text = block(*rows) if rng.random() < 0.95 else "no block " + "\n".join(rows)
    return text, n, m


def test_cross_check_against_loop_reference():
    rng = random.Random(20240611)
    statuses = set()
    for _ in range(500):
        text, n, m = random_answer(rng)
        expected = reference_score(text, n, m)
        got = score_sample(text, n, m)
        statuses.add(got.status)
        if isinstance(expected, str):
            assert got.status == expected, text
            continue
        assert got.status == VALID, text
        # Exact equality on purpose: the same sums in the same order must give the same floats.
        assert (got.precision, got.recall, got.f1, got.average_precision) == expected, text
    assert statuses == {VALID, SKIPPED, ERROR}
