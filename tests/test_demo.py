"""The demo works for every role and tells the story: open slots (k = 2), a real human ceiling,
four critics of which two have nearly the same accuracy and very different consistency."""

import pytest
from django.test import Client

from annotate.selectors import claimable_pairs
from annotate.selectors_agreement import human_agreement
from metajudge.models import MatchRun
from metajudge.selectors import critic_figures
from metajudge.services.demo import demo_setup


def _client(username: str, password: str) -> Client:
    client = Client()
    assert client.login(username=username, password=password)
    return client


@pytest.fixture
def full_demo(db):
    lines = []
    demo = demo_setup(log=lines.append)
    assert any("second checklists by annotator2: 13" in line for line in lines)
    return demo


@pytest.mark.django_db
def test_demo_figures_tell_the_story(full_demo):
    figures = {f["critic"]: f for f in critic_figures(full_demo, threshold=0.5)}
    assert set(figures) == {"careful-judge", "surface-judge", "polished-judge", "brief-judge"}
    careful, polished = figures["careful-judge"], figures["polished-judge"]
    assert abs(careful["outcome_accuracy"] - polished["outcome_accuracy"]) <= 0.05
    assert careful["rationale_consistency"] - polished["rationale_consistency"] >= 0.4
    assert {r.matcher for r in MatchRun.objects.all()} == {"offline"}
    ceiling = human_agreement(full_demo)
    assert ceiling["pairs"] >= 10 and 0 < ceiling["mean_recall"] < 1


@pytest.mark.django_db
def test_setup_is_idempotent(full_demo):
    lines = []
    demo_setup(log=lines.append)
    assert "0 pairs added" in lines[0]
    assert any("extra critics: 0 judgments added" in line for line in lines)
    assert any("second checklists by annotator2: 0" in line for line in lines)
    assert MatchRun.objects.count() == 4


@pytest.mark.django_db
def test_every_demo_user_has_something_to_do(full_demo):
    annotator = _client("annotator", "annotator-demo")
    page = annotator.get("/annotate/").content.decode()
    assert "Up next" in page and "No unclaimed pair" not in page
    # slot 1 of every pair but the 13 that annotator2 already did
    assert claimable_pairs(full_demo.members.get(username="annotator")).count() == 32 - 13
    reviewer = _client("reviewer", "reviewer-demo")
    review = reviewer.get("/annotate/review/").content.decode()
    assert review.count("demo-0") >= 13
    agreement = reviewer.get("/annotate/agreement/").content.decode()
    assert "13" in agreement
    dashboard = reviewer.get("/audit/demo/").content.decode()
    assert "polished-judge" in dashboard and "careful-judge" in dashboard
    assert "Similar accuracy" in dashboard or "matches <strong>careful-judge</strong>" in dashboard
    assert reviewer.get("/audit/demo/runs/").status_code == 200
    admin = _client("admin", "admin-demo")
    assert admin.get("/audit/demo/runs/").status_code == 200
    assert admin.get("/admin/").status_code == 200
