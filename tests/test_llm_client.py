"""The judge client reads a chat completion's JSON as it came: every shape an untrusted server
may send ends as a text or as an error that says what was wrong, never as an exception."""

import pytest

from metajudge.llm.client import CallResult, JudgeClient


def read(body) -> CallResult:
    result = CallResult(text=None)
    assert JudgeClient._read(body, result) is None  # never retried: the server answered
    return result


def test_a_completion_gives_its_text_and_usage():
    body = {
        "choices": [{"message": {"role": "assistant", "content": "ok"}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3},
    }
    result = read(body)
    assert (result.text, result.error, result.prompt_tokens, result.completion_tokens) == (
        "ok",
        "",
        12,
        3,
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("<html>busy</html>", "malformed answer: the body is not a JSON object"),
        ([1, 2], "malformed answer: the body is not a JSON object"),
        ({}, "empty answer: no choices"),
        ({"choices": []}, "empty answer: no choices"),
        ({"choices": "x"}, "empty answer: no choices"),
        ({"choices": [7]}, "empty answer: no content"),
        ({"choices": [{"message": {"content": None}}]}, "empty answer: no content"),
        (
            {"choices": [{"message": {"content": ["a"]}}]},
            "malformed answer: the content is not text",
        ),
    ],
)
def test_every_other_shape_is_a_named_error(body, error):
    result = read(body)
    assert result.text is None and result.error == error


def test_usage_counts_that_are_not_counts_are_ignored():
    body = {
        "choices": [{"message": {"content": "ok"}}],
        "usage": {"prompt_tokens": "12", "completion_tokens": -4},
    }
    result = read(body)
    assert result.text == "ok" and result.prompt_tokens == 0 and result.completion_tokens == 0
    assert read({"choices": [{"message": {"content": "ok"}}], "usage": [1]}).prompt_tokens == 0
