"""Verdict mode on R-Align records, against the loopback server."""

import io
import json

import pytest
from django.core.management import call_command

from annotate.models import Dataset
from annotate.services.imports import import_pairs
from metajudge.matching.verdict import parse_verdict
from metajudge.models import Critic, Judgment, MatchResult
from metajudge.selectors import critic_figures, verdict_figures
from tests.llm_server import LLMServer


def ralign(i: int, gt: str) -> dict:
    return {
        "id": f"r{i}",
        "conversations": [{"from": "human", "value": f"q{i}"}],
        "response_A": "a",
        "response_B": "b",
        "gt_label": gt,
        "gt_judgment": f"decisive factor {i}",
    }


@pytest.fixture
def rdata(db):
    lines = "\n".join(json.dumps(ralign(i, "A" if i % 2 else "B")) for i in range(10))
    import_pairs(stream=io.BytesIO(lines.encode()), dataset_name="ralign")
    dataset = Dataset.objects.get(name="ralign")
    critic = Critic.objects.create(name="judge-r")
    for pair in dataset.pairs.all():
        i = int(pair.key[1:])
        label = pair.preference if i < 8 else 3 - pair.preference  # 8 of 10 label-correct
        text = (
            f"<think>decisive factor {i} hidden</think>Because of factor {i}."
            if i % 3
            else "Longer."
        )
        Judgment.objects.create(pair=pair, critic=critic, label=label, generated_text=text)
    return dataset


def verdict_responder(request):
    prompt = request["messages"][-1]["content"]
    rationale = prompt.split("<model_rationale>")[1].split("</model_rationale>")[0]
    return "<think>it names it</think>\nCorrect" if "factor" in rationale else " incorrect"


@pytest.mark.parametrize(
    "text, counts",
    [
        (" Correct\n", True),
        ("CORRECT", True),
        ("<think>incorrect?</think>\ncorrect", True),
        ("**correct**", False),
        ("correct.", False),
        ("x\ncorrect", False),
        ("incorrect", False),
        ("<think>correct</think>\nIncorrect", False),
        ("", False),
    ],
)
def test_only_exactly_correct_counts(text, counts):
    from metajudge.method.scoring import verdict_is_correct

    assert verdict_is_correct(parse_verdict(text)) is counts


def test_verdict_run_and_figures(rdata):
    with LLMServer(responder=verdict_responder) as server:
        call_command(
            "run_verdict",
            dataset="ralign",
            critic="judge-r",
            judge_model="v",
            base_url=server.base_url,
            sync=True,
            stdout=io.StringIO(),
        )
        asked = [b["messages"][-1]["content"] for b in server.stats["bodies"]]
    assert len(asked) == 8  # label-correct items only
    assert all("hidden" not in prompt for prompt in asked)  # the rationale after </think>
    results = MatchResult.objects.filter(run__matcher="verdict")
    assert results.filter(status="skipped").count() == 2
    # i in 0..7: i % 3 == 0 -> "Longer." -> incorrect (i = 0, 3, 6); others correct
    fig = verdict_figures(rdata)["judge-r"]
    assert (fig["verdict_correct"], fig["verdict_incorrect"]) == (5, 3)
    assert fig["outcome_accuracy"] == pytest.approx(0.8)
    assert fig["s_corr_verdict"] == pytest.approx(1 - 5 / 8)
    assert fig["f_score_verdict"] == pytest.approx(0.8 * 5 / 8)
    assert critic_figures(rdata) == []  # verdict runs are not atom-mode runs
