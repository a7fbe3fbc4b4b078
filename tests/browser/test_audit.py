"""A reviewer audits in real headless Chromium: dashboard, threshold, case, verdict, send back."""

import re

import pytest

from annotate.access import REVIEWER
from annotate.models import Checklist
from metajudge.models import AuditVerdict, Critic, Judgment, MatchResult, MatchRun
from tests.factories import checklist_with, join, score_offline


def _run(critic: str) -> None:
    score_offline(critic, "demo")


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def audit_demo(demo, reviewer):
    """Demo data plus a look-alike critic: careful-judge's labels with surface-judge's reasons."""
    join(demo, reviewer, role=REVIEWER)
    lookalike = Critic.objects.create(name="lookalike-judge")
    careful = {j.pair_id: j for j in Judgment.objects.filter(critic__name="careful-judge")}
    Judgment.objects.bulk_create(
        [
            Judgment(
                pair_id=j.pair_id,
                critic=lookalike,
                label=careful[j.pair_id].label,
                atoms=j.atoms,
                generated_text=j.generated_text,
            )
            for j in Judgment.objects.filter(critic__name="surface-judge")
        ]
    )
    for critic in ("careful-judge", "surface-judge", "lookalike-judge"):
        _run(critic)
    for pair in demo.pairs.order_by("position")[:8]:  # a second checklist: the human ceiling
        atoms = Checklist.objects.get(pair=pair, slot=0).atoms
        checklist_with(pair, atoms[:-1] or atoms, slot=1)
    return demo


def _chart_point(page, critic: str) -> tuple[float, float]:
    return page.evaluate(
        """(name) => {
            const canvas = document.getElementById('audit-scatter');
            const chart = Chart.getChart(canvas);
            const i = chart.data.datasets[0].data.findIndex(p => p.critic === name);
            const el = chart.getDatasetMeta(0).data[i];
            const box = canvas.getBoundingClientRect();
            return [box.left + el.x, box.top + el.y];
        }""",
        critic,
    )


@pytest.mark.django_db(transaction=True)
def test_reviewer_audits_the_demo(audit_demo, login, live_server, shot):
    page = login("rev", "pw-rev-1234")
    page.goto(f"{live_server.url}/audit/")
    assert page.get_by_role("row", name="demo").is_visible()
    page.get_by_role("link", name="demo").click()
    page.wait_for_selector("#audit-scatter[data-drawn='1']")
    page.wait_for_selector("table.breakdown")
    assert page.locator("tr.divergent").count() == 2
    assert page.get_by_text("Similar accuracy, different reasons").count() >= 0
    x, y = _chart_point(page, "lookalike-judge")
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    shot(page, "audit-dashboard")

    caption = page.locator("#figures-table caption")
    assert "0.50" in caption.inner_text()
    page.locator("#threshold").fill("0.25")
    page.wait_for_function(
        "() => document.querySelector('#figures-table caption').textContent.includes('0.25')"
    )
    page.wait_for_selector("#audit-scatter[data-drawn='1']")
    assert "threshold=0.25" in page.url
    # The breakdown reloads for the new threshold too. Switching its grouping right then can
    # lose to that reload (a known race, in the closing note), so choose again once if so.
    page.wait_for_load_state("networkidle")
    for attempt in range(2):
        page.locator("#by").select_option("language")
        try:
            page.wait_for_selector("table.breakdown th:has-text('english')", timeout=5000)
            break
        except Exception:
            if attempt:
                raise
            page.locator("#by").select_option("domain")
            page.wait_for_load_state("networkidle")
    shot(page, "audit-dashboard-threshold")

    x, y = _chart_point(page, "lookalike-judge")
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(r"/audit/demo/triage/\?critic=lookalike-judge"))
    assert page.locator("#f-threshold").input_value() == "0.25"
    page.locator("#f-domain").select_option("code")
    page.wait_for_function("() => location.search.includes('domain=code')")
    page.locator("#f-domain").select_option("")
    page.wait_for_function("() => !location.search.includes('domain=code')")
    shot(page, "audit-triage")

    page.locator("table.queue tbody tr th a").first.click()
    page.wait_for_selector("#verdict")
    first_url = page.url
    assert page.locator(".atom.unmatched").count() > 0
    shot(page, "audit-case")
    page.keyboard.press("j")
    page.wait_for_url(lambda url: url != first_url)
    second_url = page.url
    page.keyboard.press("k")
    page.wait_for_url(first_url)

    page.get_by_label("Deceptive (right label, wrong reasons)").check()
    page.get_by_label("Comment").fill("Praises formatting; never mentions the dishonest advice.")
    page.get_by_role("button", name="Record verdict").click()
    page.wait_for_selector("#verdict .saved")
    assert "Deceptive" in page.locator("#verdict .saved").inner_text()
    assert AuditVerdict.objects.get().kind == "deceptive"
    shot(page, "audit-case-verdict")

    page.goto(second_url)
    page.get_by_label("Human checklist incomplete").check()
    page.get_by_role("button", name="Record verdict").click()
    page.wait_for_selector("#verdict [role=alert]")
    page.get_by_label("Comment").fill("The checklist misses the point about tone.")
    page.get_by_role("button", name="Record verdict").click()
    page.wait_for_selector("#verdict .saved")
    assert "sent back to annotators" in page.locator("#verdict").inner_text()
    sent_back = AuditVerdict.objects.get(kind="checklist_incomplete").result
    assert Checklist.objects.get(pair=sent_back.pair, slot=0).status == "sent_back"
    shot(page, "audit-case-sent-back")

    page.goto(f"{live_server.url}/audit/demo/")
    page.wait_for_selector("#audit-scatter[data-drawn='1']")
    assert "2 cases reviewed" in page.locator(".callouts").inner_text()

    partly = (
        MatchResult.objects.filter(
            run__critic__name="careful-judge", label_correct=True, recall__gt=0, recall__lt=0.5
        )
        .order_by("-recall")
        .first()
    )
    page.goto(f"{live_server.url}/audit/cases/{partly.pk}/?critic=careful-judge")
    assert page.locator(".atoms.human a.link-score").count() > 0
    assert page.locator(".generated mark").count() > 0
    shot(page, "audit-case-matched")


@pytest.mark.django_db(transaction=True)
def test_run_progress_polls_until_done(audit_demo, login, live_server, shot):
    run = MatchRun.objects.filter(critic__name="surface-judge").get()
    MatchRun.objects.filter(pk=run.pk).update(
        state="running", done_count=12, calls=12, prompt_tokens=4200, completion_tokens=800
    )
    page = login("rev", "pw-rev-1234")
    page.goto(f"{live_server.url}/audit/runs/{run.pk}/")
    assert "12 / 32" in page.locator("#progress").inner_text()
    shot(page, "audit-run-running")
    MatchRun.objects.filter(pk=run.pk).update(state="done", done_count=32)
    page.wait_for_function(
        "() => document.querySelector('#progress').textContent.includes('32 / 32')", timeout=6000
    )
    assert page.locator("#progress .badge").inner_text() == "Done"
    assert MatchResult.objects.filter(run=run).count() == 32
