"""The runs page: start every kind of run from the browser's forms, see its cost first, watch
it, abort and resume it. The same services as the management commands."""

import pytest

from annotate.access import REVIEWER
from metajudge.models import CachedAnswer, GenrmRun, JudgeEndpoint, MatchResult, MatchRun
from metajudge.runs.match_runs import refresh_counts
from tests.factories import join
from tests.llm_server import auto_responder

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def runs_demo(demo, reviewer, annotator):
    join(demo, reviewer, role=REVIEWER)
    join(demo, annotator)
    return demo


@pytest.fixture
def endpoint(llm_server):
    llm_server.responder = auto_responder
    return JudgeEndpoint.objects.create(
        name="loopback", base_url=llm_server.base_url, model="judge-model", max_concurrency=8
    )


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """POST the start form; the enqueue-on-commit callbacks run (eager Celery) as they would
    after a committed request."""

    def _start(client, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/audit/demo/runs/start/", data)

    return _start


@pytest.mark.django_db
def test_runs_page_for_reviewers_only(runs_demo, as_reviewer, as_annotator, as_outsider, start):
    page = as_reviewer.get("/audit/demo/runs/")
    html = page.content.decode()
    assert page.status_code == 200 and "Start a run" in html and "<html" in html
    assert 'name="kind"' in html and "careful-judge" in html
    denied = as_annotator.get("/audit/demo/runs/")
    assert denied.status_code == 403 and "Back to the app" in denied.content.decode()
    assert as_outsider.get("/audit/demo/runs/").status_code == 404
    assert start(as_annotator, kind="metajudge", critic="careful-judge").status_code == 403
    assert start(as_outsider, kind="metajudge", critic="careful-judge").status_code == 404
    assert not MatchRun.objects.exists()


@pytest.mark.django_db
def test_superuser_sees_every_dataset_runs_page(runs_demo, as_superuser):
    assert as_superuser.get("/audit/demo/runs/").status_code == 200


@pytest.mark.django_db
def test_estimate_fragment_shows_samples_cache_and_calls(runs_demo, as_reviewer, endpoint, start):
    query = {"kind": "metajudge", "critic": "careful-judge", "matcher": "llm"}
    query["endpoint"] = endpoint.pk
    headers = {**HX, "HTTP_HX_TARGET": "estimate"}
    fragment = as_reviewer.get("/audit/demo/runs/", query, **headers).content.decode()
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="estimate"')
    assert '<span id="est-samples">32</span>' in fragment
    assert '<span id="est-cached">0</span>' in fragment
    assert '<span id="est-calls">32</span>' in fragment
    # Run it, then make every sample stale without changing atoms: all answers are cached.
    assert start(as_reviewer, **query, subset="all").status_code == 302
    run = MatchRun.objects.get(matcher="llm")
    assert run.state == "done" and CachedAnswer.objects.count() > 0
    valid = MatchResult.objects.filter(run=run, status="valid").count()
    MatchResult.objects.filter(run=run).update(stale=True)
    again = as_reviewer.get(
        "/audit/demo/runs/", {**query, "subset": "stale"}, **headers
    ).content.decode()
    assert '<span id="est-samples">32</span>' in again
    assert f'<span id="est-cached">{valid}</span>' in again
    assert f'<span id="est-calls">{32 - valid}</span>' in again
    incomplete = as_reviewer.get("/audit/demo/runs/", {"kind": "genrm"}, **headers)
    assert "To see the cost" in incomplete.content.decode()


@pytest.mark.django_db
def test_offline_metajudge_from_the_page_then_figures_and_triage(runs_demo, as_reviewer, start):
    response = start(as_reviewer, kind="metajudge", critic="surface-judge", matcher="offline")
    run = MatchRun.objects.get(critic__name="surface-judge")
    assert response.status_code == 302 and response.url == f"/audit/runs/{run.pk}/"
    assert run.state == "done" and run.done_count == run.total == 32
    assert run.created_by.username == "rev"
    page = as_reviewer.get(response.url).content.decode()
    assert "32 / 32" in page and 'id="run-figures" href="/audit/demo/"' in page
    assert f"/audit/demo/triage/?critic=surface-judge&amp;run={run.pk}" in page
    assert "every 2s" not in page
    listing = as_reviewer.get("/audit/demo/runs/").content.decode()
    assert f"match-{run.pk}" in listing


@pytest.mark.django_db
def test_requeue_shows_new_times(runs_demo, as_reviewer, start):
    start(as_reviewer, kind="metajudge", critic="surface-judge", matcher="offline")
    run = MatchRun.objects.get()
    old = run.started_at
    MatchRun.objects.filter(pk=run.pk).update(started_at=old.replace(year=2020))
    start(as_reviewer, kind="metajudge", critic="surface-judge", matcher="offline")
    run.refresh_from_db()
    assert run.started_at.year != 2020 and run.finished_at >= run.started_at


@pytest.mark.django_db
def test_only_failed_subset_redoes_only_failed(runs_demo, as_reviewer, start):
    start(as_reviewer, kind="metajudge", critic="surface-judge", matcher="offline")
    run = MatchRun.objects.get()
    broken = list(MatchResult.objects.filter(run=run).values_list("pk", flat=True)[:3])
    MatchResult.objects.filter(pk__in=broken).update(status="error", error="boom 1")
    MatchResult.objects.exclude(pk__in=broken).update(stale=True)
    start(as_reviewer, kind="metajudge", critic="surface-judge", subset="failed")
    assert MatchResult.objects.filter(run=run, stale=True).count() == 29
    assert not MatchResult.objects.filter(run=run, status="error").exists()


@pytest.mark.django_db
def test_domain_subset_and_missing_fields(runs_demo, as_reviewer, start):
    response = start(as_reviewer, kind="metajudge", critic="surface-judge", subset="domain")
    assert response.status_code == 400 and "name the domain" in response.content.decode()
    response = start(as_reviewer, kind="metajudge", critic="surface-judge", matcher="llm")
    assert response.status_code == 400 and "configured endpoint" in response.content.decode()
    start(as_reviewer, kind="metajudge", critic="surface-judge", subset="domain", domain="code")
    run = MatchRun.objects.get()
    assert run.domain == "code" and 0 < run.total < 32


@pytest.mark.django_db
def test_genrm_run_with_chained_metajudge(runs_demo, as_reviewer, endpoint, start):
    response = start(
        as_reviewer,
        kind="genrm",
        critic="loopback-genrm",
        endpoint=endpoint.pk,
        chain_matcher="offline",
    )
    run = GenrmRun.objects.get()
    assert response.url == f"/audit/genrm-runs/{run.pk}/"
    assert run.state == "done" and run.done_count == 32 and run.chained_run_id
    page = as_reviewer.get(response.url).content.decode()
    assert f'href="/audit/runs/{run.chained_run_id}/"' in page and "Throughput" in page
    fragment = as_reviewer.get(response.url, **HX).content.decode()
    assert fragment.lstrip().startswith('<section id="progress"')
    GenrmRun.objects.filter(pk=run.pk).update(state="running")
    polling = as_reviewer.get(response.url).content.decode()
    assert 'hx-trigger="every 2s"' in polling and ">Abort<" in polling
    aborted = as_reviewer.post(f"/audit/genrm-runs/{run.pk}/abort/", **HX).content.decode()
    assert "Aborted" in aborted and ">Resume<" in aborted
    assert as_reviewer.post(f"/audit/genrm-runs/{run.pk}/resume/").status_code == 302


@pytest.mark.django_db
def test_genrm_run_pages_refuse_wrong_role(
    runs_demo, as_reviewer, as_annotator, as_outsider, endpoint, start
):
    start(as_reviewer, kind="genrm", critic="g", endpoint=endpoint.pk)
    run = GenrmRun.objects.get()
    for url in (f"/audit/genrm-runs/{run.pk}/",):
        assert as_annotator.get(url).status_code == 403
        assert as_outsider.get(url).status_code == 404
    assert as_annotator.post(f"/audit/genrm-runs/{run.pk}/abort/").status_code == 403
    assert as_outsider.post(f"/audit/genrm-runs/{run.pk}/abort/").status_code == 404


@pytest.mark.django_db
def test_verdict_and_atomize_runs_start_from_the_page(runs_demo, as_reviewer, endpoint, start):
    response = start(as_reviewer, kind="verdict", critic="careful-judge", endpoint=endpoint.pk)
    assert response.status_code == 302
    assert MatchRun.objects.get(matcher="verdict").state == "done"
    response = start(as_reviewer, kind="atomize", endpoint=endpoint.pk)
    assert response.status_code == 302
    assert GenrmRun.objects.get(kind="atomize_human").state == "done"


@pytest.mark.django_db
def test_errors_grouped_by_cause(runs_demo, as_reviewer, start):
    start(as_reviewer, kind="metajudge", critic="surface-judge", matcher="offline")
    run = MatchRun.objects.get()
    ids = list(MatchResult.objects.filter(run=run).values_list("pk", flat=True))
    MatchResult.objects.filter(pk__in=ids[:3]).update(
        status="error", error="HTTP 500 after 5 attempts"
    )
    MatchResult.objects.filter(pk__in=ids[3:4]).update(
        status="error", error="HTTP 503 after 2 attempts"
    )
    MatchResult.objects.filter(pk__in=ids[4:5]).update(status="error", error="bad grammar: 'R1@S9'")
    refresh_counts(run)
    page = as_reviewer.get(f"/audit/runs/{run.pk}/").content.decode()
    assert "Errors by cause" in page
    assert '<td>HTTP N after N attempts</td><td class="num">4</td>' in page
