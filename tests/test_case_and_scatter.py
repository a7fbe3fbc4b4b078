"""Scatter data and legend (every encoding, ceiling n and interval, matcher and judge named) and
the case view's links between atoms (level words, the side mapping, the judge's own lines)."""

import json
import re

import pytest

from annotate.access import REVIEWER
from metajudge.models import MatchResult
from metajudge.services.demo import demo_setup
from tests.factories import join

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def story(db, reviewer, annotator):
    demo = demo_setup(log=lambda _line: None)
    join(demo, reviewer, role=REVIEWER)
    join(demo, annotator)
    return demo


@pytest.mark.django_db
def test_scatter_data_and_legend(story, as_reviewer, as_annotator):
    html = as_reviewer.get("/audit/demo/").content.decode()
    data = json.loads(re.search(r'id="audit-chart-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert data["ceiling_n"] == 13 and data["ceiling_low"] < data["ceiling"] < data["ceiling_high"]
    assert len(data["judges"]) == 1 and data["judges"][0].startswith("offline")
    assert ["careful-judge", "polished-judge"] in data["links"] or [
        "polished-judge",
        "careful-judge",
    ] in data["links"]
    legend = html[html.index('id="chart-legend"') :]
    legend = legend[: legend.index("</ul>")]
    for text in ("S-Corr", "Gold ring", "Dashed gold line", "n = 13 pairs", "95% interval"):
        assert text in legend
    assert "Scored by:" in html and "offline matcher" in html
    assert "polished-judge</strong> matches <strong>careful-judge" in html
    denied = as_annotator.get("/audit/demo/")
    assert denied.status_code == 403 and "Not for your role" in denied.content.decode()


@pytest.mark.django_db
def test_case_view_links_atoms_with_words_and_judge_lines(story, as_reviewer):
    result = (
        MatchResult.objects.filter(run__critic__name="careful-judge", status="valid")
        .exclude(lines=[])
        .order_by("pair__position")
        .first()
    )
    html = as_reviewer.get(f"/audit/cases/{result.pk}/").content.decode()
    assert html.count("Response 1 = Response A, Response 2 = Response B") == 1
    i, j, score = result.lines[0]
    if j:
        assert f'id="human-atom-{i}"' in html and f'data-links="model-atom-{j}"' in html
    words = ("fully achieved", "mostly achieved", "partially achieved", "slightly involved")
    assert any(w in html for w in words)
    assert re.search(r"judge said</span> <code>- R1@S\d+: [01]\.\d\d</code>", html)
    assert f'href="/annotate/pairs/{result.pair_id}/"' in html
    fragment = as_reviewer.get(
        f"/audit/cases/{result.pk}/", HTTP_HX_TARGET="match-status", **HX
    ).content.decode()
    assert fragment.lstrip().startswith('<section id="match-status"') and "<html" not in fragment
