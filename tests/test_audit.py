"""Reviewer audit through the test client: dashboard, triage, case, verdicts, runs, API."""

import csv
import io
import json
import re

import pytest

from annotate.access import REVIEWER
from annotate.models import Checklist, Review
from metajudge.audit import selectors as selectors_audit
from metajudge.audit import triage as selectors_triage
from metajudge.models import AuditVerdict, MatchResult, MatchRun
from metajudge.selectors import critic_figures
from tests.factories import PairFactory, checklist_with, join, score_offline

HX = {"HTTP_HX_REQUEST": "true"}
CASE_LINK = re.compile(r'href="/audit/cases/(\d+)/')


@pytest.fixture(autouse=True)
def _empty_cache():
    """Figures are cached per run state; every test starts from nothing cached."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def run_offline(critic: str, dataset: str = "demo") -> None:
    score_offline(critic, dataset)


@pytest.fixture
def audited(demo, reviewer, annotator):
    """The demo dataset with both critics scored; rev reviews it, ann annotates it."""
    join(demo, reviewer, role=REVIEWER)
    join(demo, annotator)
    run_offline("careful-judge")
    run_offline("surface-judge")
    return demo


def spurious(critic="surface-judge", threshold=0.5):
    run = MatchRun.objects.get(critic__name=critic)
    return list(
        MatchResult.objects.filter(
            run=run, status="valid", label_correct=True, recall__lt=threshold
        ).order_by("recall", "pk")
    )


# --- access ---------------------------------------------------------------------------------

AUDIT_PAGES = [
    "/audit/demo/",
    "/audit/demo/triage/?critic=surface-judge",
    "/api/v1/datasets/demo/figures/",
    "/api/v1/datasets/demo/audit/",
    "/api/v1/datasets/demo/audit/export/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", AUDIT_PAGES)
def test_annotator_gets_403_and_outsider_404(audited, as_annotator, as_outsider, url):
    assert as_annotator.get(url).status_code == 403
    assert as_outsider.get(url).status_code == 404


@pytest.mark.django_db
def test_object_pages_refuse_wrong_role_and_outsider(audited, as_annotator, as_outsider):
    case = spurious()[0]
    run = case.run
    for url in (f"/audit/cases/{case.pk}/", f"/audit/runs/{run.pk}/"):
        assert as_annotator.get(url).status_code == 403
        assert as_outsider.get(url).status_code == 404
    for url in (
        f"/audit/cases/{case.pk}/verdict/",
        f"/audit/cases/{case.pk}/rerun/",
        f"/audit/runs/{run.pk}/abort/",
        f"/audit/runs/{run.pk}/resume/",
    ):
        assert as_annotator.post(url, {"kind": "deceptive"}).status_code == 403
        assert as_outsider.post(url, {"kind": "deceptive"}).status_code == 404
    assert not AuditVerdict.objects.exists()
    assert MatchRun.objects.get(pk=run.pk).state == "done"


@pytest.mark.django_db
def test_audit_index_is_for_reviewers(audited, as_reviewer, as_annotator):
    from django.test import Client

    page = as_reviewer.get("/audit/")
    assert page.status_code == 200
    assert b'href="/audit/demo/"' in page.content
    assert as_annotator.get("/audit/").status_code == 403
    assert Client().get("/audit/demo/").status_code == 302  # anonymous: to the login page


@pytest.mark.django_db
def test_superuser_sees_every_dataset(audited, as_superuser):
    assert as_superuser.get("/audit/demo/").status_code == 200


# --- dashboard ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_full_page_has_table_chart_data_and_threshold(audited, as_reviewer):
    page = as_reviewer.get("/audit/demo/?threshold=0.5")
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert 'id="audit-chart-data"' in html and "chart.umd.js" in html
    assert 'name="threshold"' in html and 'hx-target="#figures"' in html
    data = json.loads(
        re.search(r'id="audit-chart-data" type="application/json">(.*?)</script>', html).group(1)
    )
    figures = {f["critic"]: f for f in critic_figures(audited, threshold=0.5)}
    assert {p["critic"] for p in data["points"]} == set(figures)
    for point in data["points"]:
        assert point["x"] == pytest.approx(figures[point["critic"]]["outcome_accuracy"])
        assert point["y"] == pytest.approx(figures[point["critic"]]["rationale_consistency"])
        assert point["url"].startswith("/audit/demo/triage/?critic=")
    assert "Human ceiling" in html
    assert "cdn" not in html.lower()


@pytest.mark.django_db
@pytest.mark.parametrize("threshold", [0.0, 0.25, 0.5, 0.8, 1.0])
def test_dashboard_figures_equal_the_report_at_any_threshold(audited, threshold):
    selectors_audit.dashboard(audited, threshold=0.5)  # warm the per-run cache first
    rows = selectors_audit.dashboard(audited, threshold=threshold)["rows"]
    report = critic_figures(audited, threshold=threshold)
    assert len(rows) == len(report)
    for row, expected in zip(rows, report, strict=True):
        assert {k: row[k] for k in expected} == pytest.approx(expected)


@pytest.mark.django_db
def test_cached_figures_follow_every_write(audited, as_reviewer):
    """A result written, a result marked stale, a run re-opened: the dashboard sees each."""
    from metajudge.matching.staleness import mark_pair_stale

    def surface_row():
        html = as_reviewer.get("/audit/demo/").content.decode()
        return re.search(r"surface-judge</a>.*?</tr>", html, re.S).group(0)

    before = surface_row()
    case = spurious()[0]
    MatchResult.objects.filter(pk=case.pk).update(stale=True)  # a bare update, no updated_at
    assert surface_row() != before
    assert re.search(r'class="num warn">1<', surface_row())
    MatchResult.objects.filter(pk=case.pk).update(stale=False)
    checklist = Checklist.objects.get(pair=case.pair, slot=0)
    checklist_with(case.pair, checklist.atoms + ["Another reason."])
    mark_pair_stale(case.pair_id)
    assert re.search(r'class="num warn">\d+<', surface_row())
    run = case.run
    MatchRun.objects.filter(pk=run.pk).update(state="running", done_count=31)
    assert "running" in surface_row()


@pytest.mark.django_db
def test_threshold_fragment_updates_figures(audited, as_reviewer):
    low = as_reviewer.get("/audit/demo/?threshold=0", HTTP_HX_TARGET="figures", **HX)
    high = as_reviewer.get("/audit/demo/?threshold=1", HTTP_HX_TARGET="figures", **HX)
    for response in (low, high):
        html = response.content.decode()
        assert response.status_code == 200 and "<html" not in html
        assert html.lstrip().startswith('<section id="figures"')
    assert '0.000 <span class="muted">(0/' in low.content.decode()  # nothing below recall 0
    [fig] = critic_figures(audited, critic="surface-judge", threshold=1.0)
    assert f"({fig['spurious_correct']}/{fig['valid_label_correct']})" in high.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("by", ["domain", "language"])
def test_breakdown_fragment_and_full_page(audited, as_reviewer, by):
    fragment = as_reviewer.get(f"/audit/demo/?by={by}", HTTP_HX_TARGET="breakdown", **HX)
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    assert "careful-judge" in html and "surface-judge" in html
    if by == "domain":
        for domain in ("code", "general", "stem"):
            assert f">{domain}</th>" in html
    else:
        assert ">english</th>" in html
    full = as_reviewer.get(f"/audit/demo/?by={by}")
    assert "<html" in full.content.decode() and f'value="{by}" selected' in full.content.decode()


@pytest.mark.django_db
def test_divergent_critics_stand_out(demo, reviewer, as_reviewer):
    """Two critics with the same labels but different reasons are called out and linked."""
    from metajudge.models import Critic, Judgment

    join(demo, reviewer, role=REVIEWER)
    careful, surface = (
        Critic.objects.get(name="careful-judge"),
        Critic.objects.get(name="surface-judge"),
    )
    for judgment in Judgment.objects.filter(critic=surface):
        twin = Judgment.objects.get(critic=careful, pair=judgment.pair)
        Judgment.objects.filter(pk=judgment.pk).update(label=twin.label)
    run_offline("careful-judge")
    run_offline("surface-judge")
    html = as_reviewer.get("/audit/demo/").content.decode()
    assert "diverges" in html and 'class="callout"' in html
    data = json.loads(
        re.search(r'id="audit-chart-data" type="application/json">(.*?)</script>', html).group(1)
    )
    assert data["links"] == [["careful-judge", "surface-judge"]]


@pytest.mark.django_db
def test_dashboard_shows_human_ceiling(audited, as_reviewer):
    from annotate.selectors_agreement import human_agreement

    for pair in audited.pairs.all()[:5]:
        checklist_with(pair, Checklist.objects.get(pair=pair, slot=0).atoms, slot=1)
    ceiling = human_agreement(audited)
    assert ceiling["pairs"] == 5
    html = as_reviewer.get("/audit/demo/").content.decode()
    assert f"{ceiling['mean_recall']:.3f}" in html


@pytest.mark.django_db
def test_verdict_mode_column(audited, as_reviewer):
    from metajudge.models import Critic

    critic = Critic.objects.get(name="surface-judge")
    run = MatchRun.objects.create(dataset=audited, critic=critic, matcher="verdict", state="done")
    atom_results = MatchResult.objects.filter(run__critic=critic, run__matcher="offline")
    for i, r in enumerate(atom_results.filter(label_correct=True)[:4]):
        MatchResult.objects.create(
            run=run,
            pair_id=r.pair_id,
            status="valid",
            label_correct=True,
            verdict="Correct" if i == 0 else "incorrect",
        )
    rows = selectors_audit.dashboard(audited, threshold=0.5)["rows"]
    surface = next(r for r in rows if r["critic"] == "surface-judge")
    assert surface["verdict_mode"]["s_corr"] == pytest.approx(0.75)
    assert "0.750" in as_reviewer.get("/audit/demo/").content.decode()


# --- triage ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_triage_queue_lowest_recall_first_and_filters(audited, as_reviewer):
    expected = spurious("careful-judge")
    page = as_reviewer.get("/audit/demo/triage/?critic=careful-judge&threshold=0.5")
    assert page.status_code == 200
    ids = [int(i) for i in CASE_LINK.findall(page.content.decode())]
    assert ids == [r.pk for r in expected][: len(ids)]
    assert f"<strong>{len(expected)}</strong> case" in page.content.decode()
    code = as_reviewer.get("/audit/demo/triage/?critic=careful-judge&domain=code", **HX)
    code_ids = {int(i) for i in CASE_LINK.findall(code.content.decode())}
    assert code_ids == {r.pk for r in expected if r.pair.domain == "code"}
    assert "<html" not in code.content.decode()


@pytest.mark.django_db
def test_triage_keyset_pages_cover_the_queue_once(audited, as_reviewer, monkeypatch):
    monkeypatch.setattr(selectors_triage, "PAGE_SIZE", 4)
    url = "/audit/demo/triage/?critic=careful-judge"
    seen, after = [], None
    while True:
        html = as_reviewer.get(url + (f"&after={after}" if after else "")).content.decode()
        seen += [int(i) for i in CASE_LINK.findall(html)]
        found = re.search(r'rel="next" href="\?[^"]*after=([^"&]+)"', html)
        if not found:
            break
        after = found.group(1)
    assert seen == [r.pk for r in spurious("careful-judge")]


@pytest.mark.django_db
def test_triage_reviewed_and_verdict_filters(audited, as_reviewer, reviewer):
    from metajudge.audit.services import verdict_record

    cases = spurious()
    verdict_record(result=cases[0], reviewer=reviewer, kind="deceptive")
    verdict_record(result=cases[1], reviewer=reviewer, kind="matcher_error")
    base = "/audit/demo/triage/?critic=surface-judge"

    def ids(query):
        return [int(i) for i in CASE_LINK.findall(as_reviewer.get(base + query).content.decode())]

    assert ids("&reviewed=yes") == [cases[0].pk, cases[1].pk]
    assert ids("&verdict=matcher_error") == [cases[1].pk]
    assert cases[0].pk not in ids("&reviewed=no") and cases[2].pk in ids("&reviewed=no")
    assert ids("&verdict=none") == ids("&reviewed=no")


@pytest.mark.django_db
def test_triage_judge_filter_picks_the_run(audited, as_reviewer):
    from metajudge.models import Critic

    old = MatchRun.objects.get(critic__name="surface-judge")
    newer = MatchRun.objects.create(
        dataset=audited,
        critic=Critic.objects.get(name="surface-judge"),
        matcher="llm",
        judge_model="judge-x",
        state="done",
    )
    page = as_reviewer.get("/audit/demo/triage/?critic=surface-judge").content.decode()
    assert "judge-x" in page and "No spurious-correct case" in page  # latest run: empty
    page = as_reviewer.get(f"/audit/demo/triage/?critic=surface-judge&run={old.pk}")
    assert len(CASE_LINK.findall(page.content.decode())) > 0
    assert newer.pk != old.pk
    assert as_reviewer.get("/audit/demo/triage/?critic=nobody").status_code == 404


# --- case -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_case_shows_atoms_links_texts_and_neighbours(audited, as_reviewer):
    # At 0.75: the semantic matcher v2 credits the careful critic's paraphrases, which leaves
    # only two of its cases under 0.5, and this page needs a middle one.
    cases = spurious("careful-judge", threshold=0.75)
    assert len(cases) >= 3
    middle = cases[1]
    page = as_reviewer.get(f"/audit/cases/{middle.pk}/?critic=careful-judge&threshold=0.75")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'href="/audit/cases/{cases[0].pk}/?' in html and 'rel="prev"' in html
    assert f'href="/audit/cases/{cases[2].pk}/?' in html and 'rel="next"' in html
    human = Checklist.objects.get(pair=middle.pair, slot=0).atoms
    for i, _ in enumerate(human, start=1):
        assert f'id="human-atom-{i}"' in html
    for j, _ in enumerate(middle.judgment.atoms, start=1):
        assert f'id="model-atom-{j}"' in html
    matched = [line for line in middle.lines if line[1] and line[2] > 0]
    if matched:
        i, j, score = matched[0]
        assert f'href="#model-atom-{j}"' in html and f"S{j} · {score:.2f}" in html
    assert "RESULT_START" in html and 'class="generated"' in html
    assert "Response 1" in html and "Response 2" in html


@pytest.mark.django_db
def test_case_navigation_ends(audited, as_reviewer):
    cases = spurious()
    first = as_reviewer.get(f"/audit/cases/{cases[0].pk}/?critic=surface-judge").content.decode()
    assert 'rel="prev"' not in first and 'rel="next"' in first
    last = as_reviewer.get(f"/audit/cases/{cases[-1].pk}/?critic=surface-judge").content.decode()
    assert 'rel="next"' not in last and 'rel="prev"' in last


XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.mark.django_db
def test_case_escapes_every_untrusted_text(alpha, reviewer, as_reviewer):
    from metajudge.models import Critic, Judgment

    pair = PairFactory(
        dataset=alpha,
        domain="code",
        context=[{"role": "user", "content": XSS}],
        response_1=f"[click me](javascript:alert(3)) {XSS}",
        response_2='<a href="javascript:alert(4)">x</a> <svg onload=alert(5)>',
    )
    checklist = checklist_with(pair, [f"Human says {XSS}", "javascript:alert(6)"])
    critic = Critic.objects.create(name="evil<critic>")
    judgment = Judgment.objects.create(
        pair=pair,
        critic=critic,
        label=1,
        atoms=[f"Model says {XSS}"],
        generated_text=f"Intro {XSS}. Model says {XSS}. <a href='javascript:alert(7)'>go</a>",
    )
    run = MatchRun.objects.create(
        dataset=alpha, critic=critic, matcher="offline", state="done", judge_model=XSS
    )
    result = MatchResult.objects.create(
        run=run,
        pair=pair,
        judgment=judgment,
        revision=checklist.current,
        status="valid",
        label_correct=True,
        recall=0.0,
        precision=0.0,
        f1=0.0,
        average_precision=0.0,
        raw_text=f"<RESULT_START>\n- R1@S1: 0.00\n{XSS}<RESULT_END>",
        lines=[[1, 1, 0.0]],
        error=XSS,
    )
    AuditVerdict.objects.create(result=result, kind="other", comment=XSS, reviewer=reviewer)
    urls = [
        f"/audit/cases/{result.pk}/",
        "/audit/alpha/",
        f"/audit/alpha/triage/?critic={critic.name}",
        f"/audit/runs/{run.pk}/",
    ]
    for url in urls:
        html = as_reviewer.get(url).content.decode()
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html and "<svg onload" not in html, url
        assert not re.search(r"<a\s[^>]*href\s*=\s*[\"']?\s*javascript:", html, re.I), url
        assert not re.search(r"<[a-z]+\s[^>]*\son[a-z]+\s*=", html, re.I), url
        assert "evil<critic>" not in html, url
    html = as_reviewer.get(f"/audit/cases/{result.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<mark" in html  # the quoted model atom is still highlighted, escaped inside


# --- verdicts -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_record_verdict_full_and_htmx(audited, as_reviewer, reviewer):
    first, second = spurious()[:2]
    response = as_reviewer.post(
        f"/audit/cases/{first.pk}/verdict/?critic=surface-judge",
        {"kind": "deceptive", "comment": "tone only"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/audit/cases/{first.pk}/?critic=surface-judge"
    verdict = AuditVerdict.objects.get(result=first)
    assert (verdict.kind, verdict.comment, verdict.reviewer) == ("deceptive", "tone only", reviewer)
    fragment = as_reviewer.post(
        f"/audit/cases/{second.pk}/verdict/", {"kind": "matcher_error"}, **HX
    )
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section id="verdict"') and "Recorded:" in html
    # Replacing a verdict keeps one row per case.
    as_reviewer.post(f"/audit/cases/{first.pk}/verdict/", {"kind": "other"})
    assert AuditVerdict.objects.filter(result=first).get().kind == "other"
    dashboard = as_reviewer.get("/audit/demo/").content.decode()
    assert "2 cases reviewed" in dashboard


@pytest.mark.django_db
def test_matcher_precision_is_counted(audited, reviewer):
    from metajudge.audit.services import verdict_record

    cases = spurious()
    for case, kind in zip(
        cases, ["deceptive", "deceptive", "deceptive", "matcher_error"], strict=False
    ):
        verdict_record(result=case, reviewer=reviewer, kind=kind)
    review = selectors_audit.dashboard(audited, threshold=0.5)["review"]
    assert (review["confirmed"], review["refuted"], review["reviewed"]) == (3, 1, 4)
    assert review["precision"] == pytest.approx(0.75)


@pytest.mark.django_db
def test_invalid_verdicts_are_refused(audited, as_reviewer):
    case = spurious()[0]
    bad = as_reviewer.post(f"/audit/cases/{case.pk}/verdict/", {"kind": "nonsense"})
    assert bad.status_code == 400
    no_note = as_reviewer.post(
        f"/audit/cases/{case.pk}/verdict/", {"kind": "checklist_incomplete"}, **HX
    )
    assert no_note.status_code == 200 and 'role="alert"' in no_note.content.decode()
    assert not AuditVerdict.objects.exists()
    assert Checklist.objects.get(pair=case.pair, slot=0).status == "submitted"


@pytest.mark.django_db
def test_checklist_incomplete_sends_the_pair_back(audited, as_reviewer, reviewer):
    case = spurious()[0]
    response = as_reviewer.post(
        f"/audit/cases/{case.pk}/verdict/",
        {"kind": "checklist_incomplete", "comment": "Misses the <b>tone</b> argument"},
        **HX,
    )
    assert "sent back to annotators" in response.content.decode()
    assert "&lt;b&gt;tone&lt;/b&gt;" in response.content.decode()
    checklist = Checklist.objects.get(pair=case.pair, slot=0)
    assert checklist.status == Checklist.Status.SENT_BACK
    verdict = AuditVerdict.objects.get(result=case)
    assert verdict.comment == "Misses the <b>tone</b> argument"
    review = Review.objects.get(checklist=checklist)
    assert review.verdict == "send_back" and "tone" in review.comment
    # A second send-back of an already sent-back checklist is harmless.
    other = MatchResult.objects.filter(pair=case.pair).exclude(pk=case.pk).first()
    as_reviewer.post(
        f"/audit/cases/{other.pk}/verdict/", {"kind": "checklist_incomplete", "comment": "again"}
    )
    assert Checklist.objects.get(pk=checklist.pk).status == Checklist.Status.SENT_BACK


@pytest.mark.django_db(transaction=True)  # the eager task commits, as a worker would
def test_rerun_clears_stale_in_the_background(audited, as_reviewer):
    from metajudge.matching.staleness import mark_pair_stale

    case = spurious()[0]
    checklist = Checklist.objects.get(pair=case.pair, slot=0)
    checklist_with(case.pair, [*checklist.atoms, "Response 1 answers the question asked."])
    mark_pair_stale(case.pair_id)
    assert MatchResult.objects.get(pk=case.pk).stale
    page = as_reviewer.get(f"/audit/cases/{case.pk}/").content.decode()
    assert "stale" in page and "Re-run this match" in page
    fragment = as_reviewer.post(f"/audit/cases/{case.pk}/rerun/", **HX)
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    fresh = MatchResult.objects.get(pk=case.pk)
    assert fresh.status == "valid" and not fresh.stale
    assert fresh.revision_id == Checklist.objects.get(pk=checklist.pk).current_id
    assert len(fresh.lines) == len(checklist.atoms) + 1


# --- runs -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_run_progress_polls_while_open_and_abort_resume(audited, as_reviewer):
    run = MatchRun.objects.get(critic__name="surface-judge")
    done = as_reviewer.get(f"/audit/runs/{run.pk}/").content.decode()
    assert "every 2s" not in done and "32 / 32" in done
    MatchRun.objects.filter(pk=run.pk).update(state="running", done_count=10)
    page = as_reviewer.get(f"/audit/runs/{run.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and "10 / 32" in page and ">Abort<" in page
    fragment = as_reviewer.get(f"/audit/runs/{run.pk}/", **HX).content.decode()
    assert fragment.lstrip().startswith('<section id="progress"') and "<html" not in fragment
    aborted = as_reviewer.post(f"/audit/runs/{run.pk}/abort/", **HX).content.decode()
    assert "Aborted" in aborted and "every 2s" not in aborted and ">Resume<" in aborted
    response = as_reviewer.post(f"/audit/runs/{run.pk}/resume/")
    assert response.status_code == 302
    assert MatchRun.objects.get(pk=run.pk).state in ("queued", "running", "done")


# --- API ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_figures_equal_the_report(audited, as_reviewer):
    response = as_reviewer.get("/api/v1/datasets/demo/figures/?threshold=0.25")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(critic_figures(audited, threshold=0.25)))


@pytest.mark.django_db
def test_api_audit_results_and_streamed_exports(audited, as_reviewer, reviewer):
    from metajudge.audit.services import verdict_record

    case = spurious()[0]
    verdict_record(result=case, reviewer=reviewer, kind="deceptive", comment="=HYPERLINK(x)")
    listing = as_reviewer.get("/api/v1/datasets/demo/audit/?critic=surface-judge&spurious=1")
    body = listing.json()
    assert body["count"] == len(spurious())
    row = next(r for r in body["results"] if r["result_id"] == case.pk)
    assert (row["verdict"], row["spurious"], row["label_correct"]) == ("deceptive", True, True)
    jsonl = as_reviewer.get("/api/v1/datasets/demo/audit/export/?format=jsonl")
    assert jsonl.streaming and jsonl["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in b"".join(jsonl.streaming_content).decode().splitlines()]
    assert len(rows) == MatchResult.objects.count()
    mine = next(r for r in rows if r["result_id"] == case.pk)
    for key in (
        "pair_id",
        "critic",
        "label_correct",
        "precision",
        "recall",
        "f1",
        "average_precision",
        "spurious",
        "verdict",
        "comment",
    ):
        assert key in mine
    assert mine["comment"] == "=HYPERLINK(x)" and mine["spurious"] is True
    assert sum(r["spurious"] for r in rows) == len(spurious()) + len(spurious("careful-judge"))
    exported = as_reviewer.get("/api/v1/datasets/demo/audit/export/?format=csv&spurious=1")
    assert exported.streaming and exported["Content-Type"] == "text/csv"
    table = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert len(table) == len(spurious()) + len(spurious("careful-judge"))
    line = next(r for r in table if r["result_id"] == str(case.pk))
    assert line["comment"] == "'=HYPERLINK(x)"  # no formula injection in spreadsheets
    bad = as_reviewer.get("/api/v1/datasets/demo/audit/export/?format=xml")
    assert bad.status_code == 400


# --- query counts ---------------------------------------------------------------------------


def _more_critics(dataset, n):
    """n more critics with a finished offline run each: query counts must not grow."""
    from metajudge.models import Critic, Judgment

    source = list(Judgment.objects.filter(critic__name="surface-judge"))
    for k in range(n):
        critic = Critic.objects.create(name=f"extra-{k}")
        Judgment.objects.bulk_create(
            [
                Judgment(
                    pair_id=j.pair_id,
                    critic=critic,
                    label=j.label,
                    atoms=j.atoms,
                    generated_text=j.generated_text,
                )
                for j in source
            ]
        )
        run_offline(critic.name, dataset.name)


@pytest.mark.django_db
def test_query_counts_are_pinned(audited, as_reviewer, django_assert_max_num_queries):
    case = spurious()[0]
    # Cold figure cache: session, user, dataset, role, runs, figures, spurious count, verdicts,
    # the ceiling's fingerprint and the ceiling itself. Warm, the dashboard needs 7.
    pages = {
        "/audit/demo/": 10,
        "/audit/demo/triage/?critic=surface-judge": 8,
        f"/audit/cases/{case.pk}/?critic=surface-judge": 7,
        f"/audit/runs/{case.run_id}/": 4,
    }
    for extra in (0, 3):
        _more_critics(audited, extra)
        for url, limit in pages.items():
            with django_assert_max_num_queries(limit):
                assert as_reviewer.get(url).status_code == 200
        with django_assert_max_num_queries(7):
            as_reviewer.get("/audit/demo/?by=domain", HTTP_HX_TARGET="breakdown", **HX)
        with django_assert_max_num_queries(10):
            as_reviewer.get("/audit/demo/?threshold=0.3", HTTP_HX_TARGET="figures", **HX)
        with django_assert_max_num_queries(7):  # warm: nothing changed since
            as_reviewer.get("/audit/demo/?threshold=0.3", HTTP_HX_TARGET="figures", **HX)


@pytest.mark.django_db
def test_an_imported_checklist_sent_back_reaches_an_annotator(demo, annotator, reviewer):
    """Imported slot-0 checklists have no owner: once sent back, any annotator can take one."""
    from annotate.models import Checklist
    from annotate.selectors import claimable_pairs
    from annotate.services.assignments import checklist_claim_next
    from metajudge.audit.services import checklist_send_back

    join(demo, annotator)
    join(demo, reviewer, role=REVIEWER)
    pair = demo.pairs.order_by("position").first()
    checklist_send_back(pair_id=pair.pk, reviewer=reviewer, note="R2 misses the meter.")
    assert claimable_pairs(annotator).filter(pk=pair.pk).exists()
    claimed = checklist_claim_next(user=annotator, pairs=claimable_pairs(annotator))
    assert claimed == Checklist.objects.get(pair=pair, slot=0)
    assert (claimed.owner, claimed.status) == (annotator, "sent_back")


# --- a send-back note is never lost ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["submitted", "approved", "todo", "in_progress", "sent_back"])
def test_send_back_records_the_note_in_every_state(audited, reviewer, status):
    from metajudge.audit.services import verdict_record

    case = spurious()[0]
    checklist = Checklist.objects.get(pair=case.pair, slot=0)
    Checklist.objects.filter(pk=checklist.pk).update(status=status)
    verdict_record(
        result=case, reviewer=reviewer, kind="checklist_incomplete", comment="Misses the tone."
    )
    checklist.refresh_from_db()
    assert checklist.status == Checklist.Status.SENT_BACK
    review = Review.objects.get(checklist=checklist)
    assert (review.verdict, review.comment, review.reviewer) == (
        "send_back",
        "Audit: Misses the tone.",
        reviewer,
    )


@pytest.mark.django_db
def test_a_second_send_back_keeps_both_notes(audited, reviewer):
    from metajudge.audit.services import checklist_send_back

    pair = spurious()[0].pair
    checklist_send_back(pair_id=pair.pk, reviewer=reviewer, note="first")
    checklist_send_back(pair_id=pair.pk, reviewer=reviewer, note="second")
    comments = Review.objects.filter(checklist__pair=pair).values_list("comment", flat=True)
    assert sorted(comments) == ["Audit: first", "Audit: second"]
