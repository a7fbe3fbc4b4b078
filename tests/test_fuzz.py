"""Hypothesis fuzzing: the importers and the MetaJudge answer parser raise nothing but their
documented validation errors, whatever they are fed."""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.records import RecordError, normalize, parse_label, parse_preference
from annotate.services.imports import import_pairs
from metajudge.method import scoring

KEYS = [
    "id",
    "domain",
    "language",
    "context",
    "response1",
    "response2",
    "overall_preference",
    "individual_preference",
    "human-checklist",
    "c-checklist",
    "c-label",
    "c-generated_text",
    "conversations",
    "response_A",
    "response_B",
    "gt_label",
    "gt_judgment",
    "label",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
records = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=10)


@settings(max_examples=3000, deadline=None)
@given(records)
def test_normalize_only_raises_record_error(obj):
    try:
        normalize(obj, json.dumps(obj))
    except RecordError:
        pass


@settings(max_examples=2000, deadline=None)
@given(json_values)
def test_label_parsers_only_raise_record_error(value):
    for parse in (parse_label, parse_preference):
        try:
            result = parse(value)
        except RecordError:
            continue
        assert result is not None


@settings(max_examples=3000, deadline=None)
@given(st.text(max_size=400), st.integers(0, 15), st.integers(0, 15))
def test_parser_and_scoring_never_raise(text, n, m):
    score = scoring.score_sample(text, n, m)
    assert score.status in (scoring.VALID, scoring.SKIPPED, scoring.ERROR)
    scoring.grammar_problem(text, n)


answer_lines = st.lists(
    st.tuples(
        st.integers(0, 12), st.integers(0, 12), st.sampled_from(["0", "0.25", "1", "1.5", "x"])
    ),
    max_size=12,
)


@settings(max_examples=2000, deadline=None)
@given(answer_lines, st.integers(1, 12), st.integers(0, 12), st.text(max_size=20))
def test_structured_answers_never_raise(lines, n, m, noise):
    body = "\n".join(f"- R{i}@S{j}: {s}" for i, j, s in lines)
    score = scoring.score_sample(f"{noise}<RESULT_START>\n{body}\n<RESULT_END>", n, m)
    if score.status == scoring.VALID:
        assert 0 <= score.recall <= 1 and 0 <= score.precision <= 1


@pytest.mark.django_db
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(st.binary(max_size=80), records.map(lambda r: json.dumps(r).encode())), max_size=6
    )
)
def test_import_never_raises_and_names_bad_lines(lines):
    report = import_pairs(stream=io.BytesIO(b"\n".join(lines)), dataset_name="fuzz")
    assert all(line_no >= 1 for line_no, _ in report.rejected)
    assert report.created + report.duplicates + report.rejected_count <= max(len(lines), 1) + 5
