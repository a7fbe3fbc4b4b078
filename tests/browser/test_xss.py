"""Untrusted text (imported data, model output, atoms, judge answers, critic names) carrying
script tags, event handlers, javascript: URLs and Markdown tricks renders inert on every page,
checked in the real browser."""

import io
import json

import pytest

from annotate.services.assignments import checklist_claim
from annotate.services.imports import import_pairs
from metajudge.models import MatchResult, MatchRun
from tests.factories import score_offline

P = (
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    '<a href="javascript:window.__xss=3">click</a> [md](javascript:window.__xss=4) '
    '<svg onload="window.__xss=5"></svg> ![x](x" onerror="window.__xss=6) '
    '<iframe src="javascript:window.top.__xss=7"></iframe>'
)
CRITIC = 'evil<img src=x onerror="window.__xss=8">'


def hostile_record(i: int) -> dict:
    return {
        "id": f"x{i}",
        "domain": "general",
        "language": "english",
        "context": [{"role": "user", "content": f"Question {P}"}],
        "response1": f"Answer one {P}",
        "response2": f"Answer two\n\n```html\n{P}\n```",
        "overall_preference": -2,
        "individual_preference": [{"score": -2, "reasoning": f"Reason {P}"}],
        "human-checklist": [f"Response 1 is right {P}", "Response 2 is wrong about the year."],
        f"{CRITIC}-checklist": [f"Response A is right {P}", "Response B has the wrong year."],
        f"{CRITIC}-label": 1,
        f"{CRITIC}-generated_text": f"<think>{P}</think> Response A is right {P}",
    }


INERT_JS = """() => ({
  xss: window.__xss === undefined ? null : window.__xss,
  handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onmouseover]').length,
  jsLinks: [...document.querySelectorAll('a[href],iframe[src]')]
      .filter(e => (e.getAttribute('href') || e.getAttribute('src') || '').trim()
      .toLowerCase().startsWith('javascript:')).length,
  scripts: [...document.scripts]  // json_script data blocks are inert by type
      .filter(s => !s.type || /javascript|module/.test(s.type))
      .filter(s => s.textContent.includes('__xss')).length,
})"""


@pytest.mark.django_db(transaction=True)
def test_hostile_text_is_inert_on_every_page(
    login, live_server, alpha, annotator, reviewer, superuser, shot
):
    lines = "\n".join(json.dumps(hostile_record(i)) for i in range(3)).encode()
    import_pairs(stream=io.BytesIO(lines), dataset_name="alpha")
    alpha.checklists_per_pair = 2
    alpha.save()
    score_offline(CRITIC, "alpha")
    pair = alpha.pairs.order_by("position").first()
    checklist = checklist_claim(user=annotator, pair=pair)
    result = MatchResult.objects.filter(pair=pair).first()
    MatchResult.objects.filter(pk=result.pk).update(raw_text=f"{P}\n{result.raw_text}")
    pages = {
        ("ann", "pw-ann-1234"): [
            f"/annotate/pairs/{pair.pk}/",
            f"/annotate/checklists/{checklist.pk}/",
            f"/annotate/checklists/{checklist.pk}/history/",
            "/annotate/",
        ],
        ("rev", "pw-rev-1234"): [
            "/audit/alpha/",
            f"/audit/alpha/triage/?critic={CRITIC}",
            f"/audit/cases/{result.pk}/",
            f"/audit/runs/{MatchRun.objects.get().pk}/",
            "/annotate/review/",
            f"/annotate/pairs/{pair.pk}/",
        ],
    }
    dialogs = []
    for (username, password), urls in pages.items():
        page = login(username, password)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for url in urls:
            response = page.goto(f"{live_server.url}{url}")
            assert response.status == 200, url
            page.wait_for_load_state("networkidle")
            for link in page.locator("a", has_text="click").all()[:2]:
                link.click(no_wait_after=True)  # had it kept a javascript: href, this runs it
            state = page.evaluate(INERT_JS)
            assert state == {"xss": None, "handlers": 0, "jsLinks": 0, "scripts": 0}, url
        shot(page, f"xss-{username}")
    assert dialogs == []
