"""The demo as each role in real headless Chromium: everyone has something to do on the first
page; the reviewer's scatter tells the story and the case view links atoms; dead ends are gone."""

import re

import pytest

from metajudge.models import MatchResult
from metajudge.services.demo import demo_setup


@pytest.fixture
def full_demo(db):
    return demo_setup(log=lambda _line: None)


@pytest.mark.django_db(transaction=True)
def test_demo_annotator_has_work_at_once(full_demo, login, live_server, shot):
    page = login("annotator", "annotator-demo")
    assert page.url.endswith("/annotate/")
    preview = page.locator(".next-preview").inner_text()
    assert preview.startswith("Up next: demo")
    up_next = preview.split("·")[1].split()[0]
    shot(page, "demo-annotator-queue")
    page.keyboard.press("n")
    page.wait_for_url(re.compile(r"/annotate/checklists/\d+/$"))
    assert up_next in page.locator("h1").inner_text()  # "Up next" is what N opened
    assert page.locator(".suggestion").count() == 0  # blind slot: no imported atoms offered
    shot(page, "demo-annotator-editor")
    page.goto(f"{live_server.url}/annotate/")
    assert up_next in page.locator(".next-preview").inner_text()  # my open work comes first
    page.goto(f"{live_server.url}/audit/demo/")
    assert page.locator("h1").inner_text() == "Not for your role"
    assert page.get_by_role("link", name="Back to the app").is_visible()
    shot(page, "demo-annotator-403")
    page.goto(f"{live_server.url}/annotate/pairs/999999/")
    assert page.locator("h1").inner_text() == "Page not found"
    shot(page, "demo-404")


@pytest.mark.django_db(transaction=True)
def test_demo_reviewer_sees_the_story(full_demo, login, live_server, shot):
    page = login("reviewer", "reviewer-demo")
    page.goto(f"{live_server.url}/audit/demo/")
    page.wait_for_selector("#audit-scatter[data-drawn='1']")
    chart = "Chart.getChart(document.getElementById('audit-scatter'))"
    points = page.evaluate(f"() => {chart}.data.datasets[0].data.length")
    assert points == 4
    assert "n = 13 pairs" in page.locator("#chart-legend").inner_text()
    assert "polished-judge" in page.locator(".callouts").inner_text()
    shot(page, "demo-reviewer-dashboard")
    result = (
        MatchResult.objects.filter(run__critic__name="careful-judge", recall__gt=0)
        .order_by("pair__position")
        .first()
    )
    page.goto(f"{live_server.url}/audit/cases/{result.pk}/")
    human = page.locator("li.atom[data-links]").first
    target = human.get_attribute("data-links").split()[0]
    human.focus()
    page.wait_for_selector(f"#{target}.linked")
    assert "achieved" in human.inner_text() or "involved" in human.inner_text()
    shot(page, "demo-reviewer-case-linked")
    page.goto(f"{live_server.url}/annotate/review/")
    assert page.locator("body").inner_text().count("demo-0") >= 13
    shot(page, "demo-reviewer-review-queue")
    page.goto(f"{live_server.url}/annotate/agreement/")
    shot(page, "demo-reviewer-agreement")
    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_role("link", name="Back to the app").click()
    page.wait_for_url(re.compile(r"/annotate/$"))


@pytest.mark.django_db(transaction=True)
def test_demo_annotator2_and_admin(full_demo, login, live_server, shot):
    page = login("annotator2", "annotator2-demo")
    assert "13" in page.locator(".progress").inner_text()
    shot(page, "demo-annotator2-queue")
    admin = login("admin", "admin-demo")
    admin.goto(f"{live_server.url}/audit/demo/runs/")
    assert admin.locator("#run-list .badge.state-done").count() == 4
    shot(admin, "demo-admin-runs")
    admin.goto(f"{live_server.url}/annotate/browse/?q=sonnet")
    admin.goto(f"{live_server.url}/annotate/browse/")
    admin.get_by_label("Search (id or text)").fill("Sintra")
    admin.wait_for_function("() => location.search.includes('q=Sintra')")
    assert "demo-002" in admin.locator("#results").inner_text()
    shot(admin, "demo-admin-browse")
