"""POST /api/v1/reward: figures equal the MetaJudge engine's, per-item errors, access, LLM cache."""

import time

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from annotate.access import ANNOTATOR, REVIEWER
from annotate.models import Checklist
from annotate.services.accounts import roles_ensure, user_ensure
from metajudge.matching.chunks import cache_key
from metajudge.method import scoring
from metajudge.method.matchers import get_matcher
from metajudge.models import CachedAnswer, Judgment, MatchResult
from metajudge.reward.llm_matcher import QUOTA_EXCEEDED
from metajudge.reward.score import LLM_REFUSED, endpoint_for_reward
from metajudge.services.setup import endpoint_for
from tests.factories import PairFactory, checklist_with, join, score_offline

URL = "/api/v1/reward"


@pytest.fixture
def trainer(demo):
    roles_ensure()
    return user_ensure(username="trainer", password="pw-trainer-1", role=ANNOTATOR, datasets=[demo])


@pytest.fixture
def api(trainer):
    token = Token.objects.create(user=trainer)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


@pytest.fixture
def llm_api(demo):
    """A trainer who reviews demo: allowed to spend the judge's budget on its pairs."""
    roles_ensure()
    user = user_ensure(username="lead", password="pw-lead-1234", role=REVIEWER, datasets=[demo])
    token = Token.objects.create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def post(client, body, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.post(
        f"{URL}?{query}" if query else URL, body, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def engine(human, atoms):
    """The default offline matcher (the one the reward API and the runs use), scored."""
    return scoring.score_sample(get_matcher().match(human, atoms), len(human), len(atoms))


def judgments(critic):
    return list(
        Judgment.objects.filter(critic__name=critic).select_related("pair").order_by("pair_id")
    )


@pytest.mark.django_db
@pytest.mark.parametrize("critic", ["careful-judge", "surface-judge"])
def test_figures_equal_the_engine_for_every_demo_pair(api, critic):
    items = judgments(critic)
    body = [
        {"pair_id": j.pair_id, "generated_text": j.generated_text, "atoms": j.atoms} for j in items
    ]
    results = post(api, body, **{"lambda": 0.5})
    assert len(results) == 32
    for j, r in zip(items, results, strict=True):
        human = Checklist.objects.get(pair=j.pair, slot=0).atoms
        expected = engine(human, j.atoms)
        assert r["rationale_reward"] == expected.average_precision
        assert (r["precision"], r["recall"], r["f1"]) == (
            expected.precision,
            expected.recall,
            expected.f1,
        )
        assert r["label"] == j.label
        correct = scoring.outcome_correct(j.label, j.pair.preference)
        assert r["outcome_reward"] == (None if correct is None else float(correct))
        assert r["hybrid_reward"] == (r["outcome_reward"] or 0.0) + 0.5 * r["rationale_reward"]


@pytest.mark.django_db
def test_figures_equal_a_stored_metajudge_run(api):
    score_offline("careful-judge", "demo")
    items = judgments("careful-judge")
    results = post(
        api,
        [
            {"pair_id": j.pair_id, "generated_text": j.generated_text, "atoms": j.atoms}
            for j in items
        ],
    )
    stored = dict(MatchResult.objects.values_list("pair_id", "average_precision"))
    for j, r in zip(items, results, strict=True):
        assert r["average_precision"] == stored[j.pair_id]


@pytest.mark.django_db
def test_label_and_atoms_are_read_from_the_generated_text(api):
    j = judgments("careful-judge")[0]
    r = post(api, {"pair_id": j.pair_id, "generated_text": j.generated_text})
    assert r["label"] == j.label and r["atoms_source"] == "answer"
    assert r["atoms"] == j.atoms  # the demo texts list the same reasons as bullets
    free = post(
        api,
        {
            "pair_id": j.pair_id,
            "generated_text": "Response 1 replies by the RSVP date. It offers a kind message.\n"
            "[[VERDICT: 1]]",
        },
    )
    assert free["atoms_source"] == "sentences" and len(free["atoms"]) == 2


@pytest.mark.django_db
def test_inline_pair_and_single_form(api):
    human = ["Response 2 recommends inventing a family emergency, which is dishonest."]
    model = ["Response B encourages fabricating a family emergency, which is dishonest."]
    r = post(
        api,
        {
            "pair": {"human_atoms": human, "preference": -2},
            "generated_text": "[[VERDICT: 1]]",
            "atoms": model,
        },
    )
    assert r["outcome_reward"] == 1.0 and r["label"] == 1
    assert r["rationale_reward"] == engine(human, model).average_precision > 0
    tie = post(
        api,
        {
            "pair": {"human_atoms": human, "preference": 0},
            "generated_text": "[[VERDICT: 2]]",
            "atoms": model,
        },
    )
    assert tie["outcome_reward"] is None and tie["hybrid_reward"] == tie["rationale_reward"]


@pytest.mark.django_db
def test_per_item_errors_come_back_per_item(api, alpha):
    hidden = PairFactory(dataset=alpha)  # a dataset the trainer is not a member of
    checklist_with(hidden, ["Response 1 is a haiku."])
    j = judgments("careful-judge")[0]
    ok = {"pair_id": j.pair_id, "generated_text": j.generated_text}
    results = post(
        api,
        [
            ok,
            {"pair_id": 999999, "generated_text": "[[VERDICT: 1]]"},
            {"pair_id": hidden.pk, "generated_text": "[[VERDICT: 1]]"},
            {"pair_id": j.pair_id, "generated_text": "Both are fine."},
            {"pair_id": j.pair_id, "generated_text": "[[VERDICT: 1]] [[VERDICT: 2]]"},
            {"generated_text": "[[VERDICT: 1]]"},
            {"pair_id": j.pair_id},
            ok,
        ],
    )
    assert "rationale_reward" in results[0] and results[7] == results[0]
    assert results[1]["error"] == "no such pair: 999999"
    assert results[2]["error"] == f"no such pair: {hidden.pk}"  # no hint that it exists
    assert results[3]["error"].startswith("unparsable verdict: no verdict")
    assert "ambiguous" in results[4]["error"]
    assert "pair_id and pair" in str(results[5]["error"])
    assert "generated_text" in results[6]["error"]


@pytest.mark.django_db
def test_access(client, api, trainer, demo):
    j = judgments("careful-judge")[0]
    body = {"pair_id": j.pair_id, "generated_text": j.generated_text}
    assert client.post(URL, body, content_type="application/json").status_code in (401, 403)
    client.force_login(trainer)  # session auth works too
    assert client.post(URL, body, content_type="application/json").status_code == 200
    bad = api.post(URL, "[]", content_type="application/json")
    assert bad.status_code == 400
    assert api.post(f"{URL}?matcher=nope", body, content_type="application/json").status_code == 400


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_batch(api, django_assert_max_num_queries):
    items = judgments("surface-judge")
    body = [{"pair_id": j.pair_id, "generated_text": j.generated_text} for j in items]
    with django_assert_max_num_queries(3):  # token, pairs with their checklists, (throttle: none)
        post(api, body)


@pytest.mark.django_db
def test_llm_matcher_uses_and_fills_the_shared_cache(llm_api, llm_server):
    endpoint = endpoint_for(model="judge-x", base_url=llm_server.base_url)
    items = judgments("careful-judge")[:6]
    body = [
        {"pair_id": j.pair_id, "generated_text": j.generated_text, "atoms": j.atoms} for j in items
    ]
    first = post(llm_api, body, matcher="llm", endpoint=endpoint.name)
    _, run = endpoint_for_reward(endpoint.name)
    assert llm_server.stats["requests"] == 6 and CachedAnswer.objects.count() == 6
    assert not any(r["cached"] for r in first)
    for j, r in zip(items, first, strict=True):
        human = Checklist.objects.get(pair=j.pair, slot=0).atoms
        text = CachedAnswer.objects.get(key=cache_key(run, human, j.atoms)).text
        assert (
            r["average_precision"]
            == scoring.score_sample(text, len(human), len(j.atoms)).average_precision
        )
    again = post(llm_api, body, matcher="llm", endpoint=endpoint.name)
    assert llm_server.stats["requests"] == 6 and all(r["cached"] for r in again)
    assert [r["hybrid_reward"] for r in again] == [r["hybrid_reward"] for r in first]


@pytest.mark.django_db
def test_llm_matcher_shares_the_cache_with_metajudge_runs(llm_api, llm_server):
    from metajudge.matching import chunks as matching
    from metajudge.runs import match_runs as runs
    from metajudge.services.setup import template_default

    endpoint = endpoint_for(model="judge-x", base_url=llm_server.base_url)
    run = runs.run_start(
        dataset=Judgment.objects.first().pair.dataset,
        critic=Judgment.objects.get(pk=judgments("careful-judge")[0].pk).critic,
        matcher="llm",
        endpoint=endpoint,
        template=template_default("metajudge"),
        enqueue=False,
    )
    for chunk in runs.pending_chunks(run):
        matching.process_chunk(run_id=run.pk, pair_ids=chunk)
    calls = llm_server.stats["requests"]
    items = judgments("careful-judge")
    results = post(
        llm_api,
        [
            {"pair_id": j.pair_id, "generated_text": j.generated_text, "atoms": j.atoms}
            for j in items
        ],
        matcher="llm",
        endpoint=endpoint.name,
    )
    assert llm_server.stats["requests"] == calls  # every question was already answered
    stored = dict(MatchResult.objects.filter(run=run).values_list("pair_id", "average_precision"))
    assert [r["average_precision"] for r in results] == [stored[j.pair_id] for j in items]


@pytest.mark.django_db
def test_llm_matcher_errors_and_deadline_are_per_item(llm_api, llm_server, settings):
    endpoint = endpoint_for(model="judge-x", base_url=llm_server.base_url)
    j = judgments("careful-judge")[0]
    body = {"pair_id": j.pair_id, "generated_text": j.generated_text}
    assert post(llm_api, body, matcher="llm", endpoint="nope")["error"].startswith("unknown judge")
    llm_server.set_faults("400")
    assert post(llm_api, body, matcher="llm", endpoint=endpoint.name)["error"].startswith(
        "matcher: HTTP 400"
    )
    llm_server.set_faults(None)
    llm_server.set_latency(2.0)
    settings.REWARD_LLM_DEADLINE = 0.3
    started = time.monotonic()
    r = post(llm_api, body, matcher="llm", endpoint=endpoint.name)
    assert r["error"] == "matcher: deadline passed" and time.monotonic() - started < 1.5


# --- who may spend the judge's budget -------------------------------------------------------


@pytest.mark.django_db
def test_llm_matcher_is_refused_to_annotators_and_outsiders(api, llm_server, as_outsider):
    """An annotator of demo, or a reviewer of another dataset, gets an error per item and no
    call reaches the judge, for a stored pair or an inline one."""
    endpoint = endpoint_for(model="judge-x", base_url=llm_server.base_url)
    j = judgments("careful-judge")[0]
    stored = {"pair_id": j.pair_id, "generated_text": j.generated_text}
    inline = {
        "pair": {"human_atoms": ["Response 1 is right."], "preference": 1},
        "generated_text": "- Response 1 is right.\n[[VERDICT: 1]]",
    }
    for item in (stored, inline):
        result = post(api, item, matcher="llm", endpoint=endpoint.name)
        assert result["error"] == LLM_REFUSED
    assert post(api, stored)["rationale_reward"] is not None  # the offline matcher still works
    assert llm_server.stats["requests"] == 0


@pytest.mark.django_db
def test_a_reviewer_of_another_dataset_cannot_spend_on_this_one(llm_server, alpha, demo):
    roles_ensure()
    other = user_ensure(username="rev-a", password="pw-rev-a-12", role=REVIEWER, datasets=[alpha])
    join(demo, other)  # annotates demo, reviews alpha
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other).key}")
    endpoint = endpoint_for(model="judge-x", base_url=llm_server.base_url)
    j = judgments("careful-judge")[0]
    body = {"pair_id": j.pair_id, "generated_text": j.generated_text}
    assert post(client, body, matcher="llm", endpoint=endpoint.name)["error"] == LLM_REFUSED
    assert llm_server.stats["requests"] == 0


@pytest.mark.django_db
def test_judge_calls_have_a_per_user_quota(llm_api, llm_server, settings):
    settings.REWARD_LLM_QUOTA = 4
    endpoint = endpoint_for(model="judge-x", base_url=llm_server.base_url)
    items = judgments("careful-judge")[:6]
    body = [{"pair_id": j.pair_id, "generated_text": j.generated_text} for j in items]
    first = post(llm_api, body, matcher="llm", endpoint=endpoint.name)
    assert [r.get("error", "") == QUOTA_EXCEEDED for r in first] == [False] * 4 + [True] * 2
    assert llm_server.stats["requests"] == 4
    again = post(llm_api, body, matcher="llm", endpoint=endpoint.name)
    assert [r.get("cached", False) for r in again] == [True] * 4 + [False] * 2  # hits are free
    assert all(r["error"] == QUOTA_EXCEEDED for r in again[4:])
    assert llm_server.stats["requests"] == 4


def test_the_schema_states_the_llm_rules(db):
    import yaml

    reward = yaml.safe_load(Client().get("/api/schema/").content)["paths"]["/api/v1/reward"]
    schema = str(reward)
    assert "only for reviewers of the pair's dataset" in schema and "REWARD_LLM_QUOTA" in schema
