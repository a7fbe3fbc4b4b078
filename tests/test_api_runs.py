"""REST API: root, runs of every kind, critics and judgments, a pair's checklist with ETags."""

import json

import pytest

from annotate.access import REVIEWER
from annotate.models import Checklist
from annotate.services.assignments import checklist_claim
from metajudge.models import GenrmRun, JudgeEndpoint, MatchRun
from tests.factories import join
from tests.llm_server import auto_responder


@pytest.fixture
def api_demo(demo, reviewer, annotator):
    join(demo, reviewer, role=REVIEWER)
    join(demo, annotator)
    return demo


@pytest.fixture
def post_run(django_capture_on_commit_callbacks):
    def _post(client, **body):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/v1/runs/", body, content_type="application/json")

    return _post


@pytest.mark.django_db
def test_api_root_lists_the_api(client, as_annotator):
    body = as_annotator.get("/api/v1/").json()
    for key in ("datasets", "pairs", "runs", "run", "critics", "pair_checklist", "docs", "schema"):
        assert key in body and body[key].startswith("http://testserver/")
    assert body["run"] == "http://testserver/api/v1/runs/%7Bid%7D/"
    assert client.get("/api/v1/").status_code == 200


@pytest.mark.django_db
def test_start_and_watch_an_offline_run(api_demo, as_reviewer, post_run):
    response = post_run(
        as_reviewer, kind="metajudge", dataset="demo", critic="surface-judge", matcher="offline"
    )
    assert response.status_code == 201
    body = response.json()
    run = MatchRun.objects.get()
    assert body["id"] == f"match-{run.pk}" and response["Location"].endswith(f"/runs/{body['id']}/")
    progress = as_reviewer.get(f"/api/v1/runs/{body['id']}/").json()
    assert (progress["state"], progress["done"], progress["total"]) == ("done", 32, 32)
    assert progress["finished"] is True and progress["kind"] == "metajudge"
    assert progress["links"]["page"].endswith(f"/audit/runs/{run.pk}/")
    listing = as_reviewer.get("/api/v1/runs/?dataset=demo").json()["results"]
    assert [r["id"] for r in listing] == [body["id"]]


@pytest.mark.django_db
def test_dry_run_answers_the_cost(api_demo, as_reviewer, post_run):
    body = post_run(
        as_reviewer, kind="metajudge", dataset="demo", critic="surface-judge", dry_run=True
    ).json()
    assert body["estimate"]["samples"] == 32 and body["estimate"]["calls"] == 0
    assert not MatchRun.objects.exists()


@pytest.mark.django_db
def test_runs_api_refuses_wrong_role_outsider_and_bad_input(
    api_demo, as_annotator, as_outsider, as_reviewer, post_run
):
    body = {"kind": "metajudge", "dataset": "demo", "critic": "surface-judge"}
    assert post_run(as_annotator, **body).status_code == 403
    assert post_run(as_outsider, **body).status_code == 404
    assert post_run(as_reviewer, **{**body, "kind": "nope"}).status_code == 400
    missing = post_run(as_reviewer, **{**body, "matcher": "llm"})
    assert missing.status_code == 400 and "endpoint" in missing.json()
    unknown = post_run(as_reviewer, **{**body, "endpoint": "not-configured", "matcher": "llm"})
    assert unknown.status_code == 400 and "no configured endpoint" in unknown.json()["endpoint"]
    assert not MatchRun.objects.exists()
    post_run(as_reviewer, **body)
    ref = f"match-{MatchRun.objects.get().pk}"
    assert as_annotator.get(f"/api/v1/runs/{ref}/").status_code == 403
    assert as_outsider.get(f"/api/v1/runs/{ref}/").status_code == 404
    assert as_reviewer.get("/api/v1/runs/run-1/").status_code == 404
    assert as_reviewer.get("/api/v1/runs/genrm-999/").status_code == 404


@pytest.mark.django_db
def test_genrm_run_through_the_api(api_demo, as_reviewer, post_run, llm_server):
    llm_server.responder = auto_responder
    JudgeEndpoint.objects.create(name="local", base_url=llm_server.base_url, model="m")
    response = post_run(
        as_reviewer,
        kind="genrm",
        dataset="demo",
        critic="api-genrm",
        endpoint="local",
        chain_matcher="offline",
    )
    assert response.status_code == 201
    run = GenrmRun.objects.get()
    body = as_reviewer.get(f"/api/v1/runs/genrm-{run.pk}/").json()
    assert body["state"] == "done" and body["done"] == 32
    assert body["chained_run"] == f"match-{run.chained_run_id}"


@pytest.mark.django_db
def test_critics_and_their_judgments_cursor_paged_and_exported(api_demo, as_annotator, as_outsider):
    critics = as_annotator.get("/api/v1/critics/?dataset=demo").json()["results"]
    assert {c["name"]: c["n_judgments"] for c in critics} == {
        "careful-judge": 32,
        "surface-judge": 32,
    }
    page = as_annotator.get("/api/v1/critics/careful-judge/judgments/?page_size=10").json()
    assert len(page["results"]) == 10 and "cursor=" in page["next"] and "count" not in page
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = as_annotator.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert len(seen) == len(set(seen)) == 32
    export = as_annotator.get("/api/v1/critics/careful-judge/judgments/export/?dataset=demo")
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert len(lines) == 32 and json.loads(lines[0])["dataset"] == "demo"
    assert (
        as_outsider.get("/api/v1/critics/careful-judge/judgments/?dataset=demo").status_code == 404
    )
    assert as_outsider.get("/api/v1/critics/careful-judge/judgments/").json()["results"] == []
    assert as_annotator.get("/api/v1/critics/nobody/judgments/").status_code == 404


def _put(client, url, atoms, etag=None, method="put", **extra):
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    send = getattr(client, method)
    return send(url, json.dumps(atoms), content_type="application/json", **headers, **extra)


@pytest.mark.django_db
def test_checklist_optimistic_locking(api_demo, as_reviewer, as_annotator, as_outsider, annotator):
    pair = api_demo.pairs.order_by("position").first()
    url = f"/api/v1/pairs/{pair.pk}/checklist/"
    got = as_reviewer.get(url)
    etag, atoms = got["ETag"], got.json()["atoms"]
    assert got.status_code == 200 and got.json()["slot"] == 0 and atoms
    assert _put(as_reviewer, url, {"atoms": atoms + ["x"]}).status_code == 428
    stale = _put(as_reviewer, url, {"atoms": ["x"]}, '"1.999"')
    assert stale.status_code == 412 and stale["ETag"] == etag
    saved = _put(as_reviewer, url, {"atoms": atoms + ["Response 2 names the file it reads."]}, etag)
    assert saved.status_code == 200 and saved["ETag"] != etag
    assert saved.json()["atoms"][-1] == "Response 2 names the file it reads."
    assert _put(as_reviewer, url, {"atoms": ["late"]}, etag).status_code == 412  # old ETag
    patched = _put(
        as_reviewer,
        url,
        {"append": ["Response 1 skips the edge case."]},
        saved["ETag"],
        method="patch",
    )
    assert patched.status_code == 200 and len(patched.json()["atoms"]) == len(atoms) + 2
    assert Checklist.objects.get(pair=pair, slot=0).version == got.json()["version"] + 2
    # An annotator writes only a checklist they hold; an outsider sees nothing.
    other = _put(as_annotator, url, {"atoms": ["mine"]}, patched["ETag"])
    assert other.status_code == 403
    assert as_outsider.get(url).status_code == 404


@pytest.mark.django_db
def test_annotator_pushes_atoms_to_their_own_slot(api_demo, as_annotator, annotator):
    api_demo.checklists_per_pair = 2
    api_demo.save()
    pair = api_demo.pairs.order_by("position").first()
    mine = checklist_claim(user=annotator, pair=pair)
    url = f"/api/v1/pairs/{pair.pk}/checklist/"
    got = as_annotator.get(url)
    assert got.json()["checklist"] == mine.pk and got.json()["atoms"] == []
    saved = _put(as_annotator, url, {"atoms": ["Response 1 cites the wrong year."]}, got["ETag"])
    assert saved.status_code == 200 and saved.json()["version"] == 1
    bad = _put(as_annotator, url, {"atoms": ["x" * 2000]}, saved["ETag"])
    assert bad.status_code == 400


@pytest.mark.django_db
def test_pairs_list_pages_by_number_or_by_cursor(api_demo, as_annotator):
    paged = as_annotator.get("/api/v1/pairs/?dataset=demo").json()
    assert paged["count"] == 32 and len(paged["results"]) == 25  # the existing contract
    page = as_annotator.get("/api/v1/pairs/?dataset=demo&cursor=&page_size=10").json()
    assert "count" not in page and len(page["results"]) == 10 and "cursor=" in page["next"]
    seen = [p["id"] for p in page["results"]]
    while page["next"]:
        page = as_annotator.get(page["next"]).json()
        seen += [p["id"] for p in page["results"]]
    assert seen == sorted(seen) and len(set(seen)) == 32
    schema = as_annotator.get("/api/schema/?format=json")
    assert b"cursor" in schema.content
