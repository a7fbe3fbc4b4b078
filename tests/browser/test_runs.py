"""A reviewer starts, watches and opens runs from the runs page in real headless Chromium: an
offline MetaJudge run and a GenRM run against the loopback judge server."""

import re

import pytest

from annotate.access import REVIEWER
from metajudge.models import GenrmRun, JudgeEndpoint, MatchRun
from tests.factories import join
from tests.llm_server import auto_responder


@pytest.fixture
def runs_world(demo, reviewer, llm_server):
    join(demo, reviewer, role=REVIEWER)
    llm_server.responder = auto_responder
    return JudgeEndpoint.objects.create(
        name="loopback", base_url=llm_server.base_url, model="judge-model", max_concurrency=8
    )


def _estimate(page, samples: str):
    page.wait_for_function(
        "(n) => (document.querySelector('#est-samples') || {}).textContent === n", arg=samples
    )


@pytest.mark.django_db(transaction=True)
def test_reviewer_runs_offline_metajudge_then_genrm(runs_world, login, live_server, shot):
    page = login("rev", "pw-rev-1234")
    page.goto(f"{live_server.url}/audit/demo/")
    page.locator("#runs-link").click()
    page.wait_for_url(re.compile(r"/audit/demo/runs/$"))
    page.get_by_label("Kind").select_option("metajudge")
    page.get_by_label("Critic").fill("surface-judge")
    page.get_by_label("Critic").dispatch_event("change")
    _estimate(page, "32")
    assert page.locator("#est-calls").inner_text() == "0"  # the offline matcher calls nothing
    shot(page, "runs-page-estimate")
    page.locator("#start-run").click()
    page.wait_for_url(re.compile(r"/audit/runs/\d+/$"))
    page.wait_for_function(
        "() => document.querySelector('#progress').textContent.includes('32 / 32')"
    )
    assert page.locator("#progress .badge").inner_text() == "Done"
    shot(page, "runs-metajudge-done")
    page.locator("#run-triage").click()
    page.wait_for_url(re.compile(r"/audit/demo/triage/\?critic=surface-judge"))
    page.go_back()
    page.locator("#run-figures").click()
    page.wait_for_selector("#audit-scatter[data-drawn='1']")
    assert "surface-judge" in page.locator("#figures-table").inner_text()

    page.goto(f"{live_server.url}/audit/demo/runs/")
    page.get_by_label("Kind").select_option("genrm")
    page.get_by_label("Critic").fill("loopback-genrm")
    page.get_by_label("Endpoint", exact=True).select_option(label="loopback (judge-model)")
    page.get_by_label("Then MetaJudge").select_option("offline")
    _estimate(page, "32")
    assert page.locator("#est-calls").inner_text() == "32"
    page.locator("#start-run").click()
    page.wait_for_url(re.compile(r"/audit/genrm-runs/\d+/$"))
    page.wait_for_function(
        "() => document.querySelector('#progress').textContent.includes('32 / 32')"
    )
    run = GenrmRun.objects.get()
    assert run.state == "done" and run.chained_run_id
    shot(page, "runs-genrm-done")
    page.locator("#run-chained").click()
    page.wait_for_url(re.compile(rf"/audit/runs/{run.chained_run_id}/$"))
    assert page.locator("#progress .badge").inner_text() == "Done"
    page.locator("#run-figures").click()
    page.wait_for_selector("#audit-scatter[data-drawn='1']")
    assert "loopback-genrm" in page.locator("#figures-table").inner_text()
    shot(page, "runs-figures-after-genrm")
    page.goto(f"{live_server.url}/audit/demo/runs/")
    listing = page.locator("#run-list").inner_text()
    assert f"genrm-{run.pk}" in listing and f"match-{run.chained_run_id}" in listing
    assert MatchRun.objects.filter(state="done").count() == 2
    shot(page, "runs-page-list")
