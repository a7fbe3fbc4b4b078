"""Cursor pages (opt-in ?cursor=) for the audit results and the pair list: keyset by id, list
fields only, the numbered pages unchanged; the pair detail holds the texts."""

import pytest

from annotate.access import REVIEWER
from annotate.models import Pair
from tests.factories import join, score_offline


@pytest.fixture
def audited(demo, reviewer, annotator):
    join(demo, reviewer, role=REVIEWER)
    join(demo, annotator)
    score_offline("careful-judge", "demo")
    score_offline("surface-judge", "demo")
    return demo


def walk(client, url):
    page = client.get(url).json()
    seen = list(page["results"])
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += page["results"]
    return seen


@pytest.mark.django_db
def test_audit_results_by_cursor_equal_the_numbered_pages(audited, as_reviewer):
    numbered = as_reviewer.get("/api/v1/datasets/demo/audit/?threshold=0.5").json()
    assert numbered["count"] == 64 and "next" in numbered  # the existing contract
    first = as_reviewer.get("/api/v1/datasets/demo/audit/?threshold=0.5&cursor=&page_size=10")
    body = first.json()
    assert "count" not in body and len(body["results"]) == 10 and "cursor=" in body["next"]
    rows = walk(as_reviewer, "/api/v1/datasets/demo/audit/?threshold=0.5&cursor=&page_size=10")
    ids = [r["result_id"] for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == 64
    by_id = {r["result_id"]: r for r in numbered["results"]}
    assert all(by_id[r["result_id"]] == r for r in rows)  # the same fields and values
    spurious = walk(as_reviewer, "/api/v1/datasets/demo/audit/?spurious=1&cursor=")
    assert spurious and all(r["spurious"] for r in spurious)
    assert (
        len(spurious) == as_reviewer.get("/api/v1/datasets/demo/audit/?spurious=1").json()["count"]
    )


@pytest.mark.django_db
def test_audit_cursor_refuses_wrong_role_and_outsider(audited, as_annotator, as_outsider):
    assert as_annotator.get("/api/v1/datasets/demo/audit/?cursor=").status_code == 403
    assert as_outsider.get("/api/v1/datasets/demo/audit/?cursor=").status_code == 404


@pytest.mark.django_db
def test_pair_cursor_pages_hold_list_fields_only(demo, annotator, as_annotator):
    join(demo, annotator)
    page = as_annotator.get("/api/v1/pairs/?dataset=demo&cursor=&page_size=5").json()
    item = page["results"][0]
    assert set(item) == {
        "id",
        "external_id",
        "dataset",
        "domain",
        "language",
        "preference",
        "preference_strength",
        "url",
    }
    detail = as_annotator.get(item["url"]).json()
    pair = Pair.objects.get(pk=item["id"])
    assert detail["response_1"] == pair.response_1 and detail["context"] == pair.context
    assert detail["judgments"] and "human_checklist" in detail
    numbered = as_annotator.get("/api/v1/pairs/?dataset=demo").json()["results"][0]
    assert "response_1" in numbered and "judgments" in numbered  # unchanged default


@pytest.mark.django_db
def test_pair_detail_hidden_from_outsiders(demo, annotator, as_outsider, client):
    pair = Pair.objects.filter(dataset=demo).first()
    assert as_outsider.get(f"/api/v1/pairs/{pair.pk}/").status_code == 404
    assert client.get(f"/api/v1/pairs/{pair.pk}/").status_code in (401, 403)


@pytest.mark.django_db
def test_cursor_pages_cost_a_fixed_number_of_queries(
    audited, as_reviewer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        as_reviewer.get("/api/v1/datasets/demo/audit/?cursor=&page_size=30")
    with django_assert_max_num_queries(8):
        as_reviewer.get("/api/v1/pairs/?cursor=&page_size=30")
