"""Every page and API endpoint x anonymous, annotator, reviewer, outsider (a member of another
dataset) and superuser: the expected status for each, and no object of another dataset
reachable by guessing its id."""

import pytest
from django.test import Client

from annotate.access import REVIEWER
from annotate.services.assignments import checklist_claim
from metajudge.models import MatchResult, MatchRun
from tests.factories import join, score_offline

ROLES = ("anon", "annotator", "reviewer", "outsider", "superuser")
LOGIN = 302  # a page redirects anonymous visitors to the login form
API_ANON = 401

# name: (url template, expected status per role in ROLES order)
MATRIX = {
    "home": ("/", (LOGIN, 302, 302, 302, 302)),
    "healthz": ("/healthz", (200, 200, 200, 200, 200)),
    "login": ("/accounts/login/", (200, 200, 200, 200, 200)),
    "password_change": ("/accounts/password_change/", (LOGIN, 200, 200, 200, 200)),
    "annotate": ("/annotate/", (LOGIN, 200, 200, 200, 200)),
    "pair": ("/annotate/pairs/{pair}/", (LOGIN, 200, 200, 404, 200)),
    "checklist": ("/annotate/checklists/{checklist}/", (LOGIN, 200, 200, 404, 200)),
    "history": ("/annotate/checklists/{checklist}/history/", (LOGIN, 200, 200, 404, 200)),
    "review_queue": ("/annotate/review/", (LOGIN, 403, 200, 403, 200)),
    "agreement": ("/annotate/agreement/", (LOGIN, 200, 200, 200, 200)),
    "audit": ("/audit/", (LOGIN, 403, 200, 403, 200)),
    "dashboard": ("/audit/{dataset}/", (LOGIN, 403, 200, 404, 200)),
    "triage": ("/audit/{dataset}/triage/?critic=careful-judge", (LOGIN, 403, 200, 404, 200)),
    "case": ("/audit/cases/{result}/", (LOGIN, 403, 200, 404, 200)),
    "run": ("/audit/runs/{run}/", (LOGIN, 403, 200, 404, 200)),
    "runs_page": ("/audit/{dataset}/runs/", (LOGIN, 403, 200, 404, 200)),
    "browse": ("/annotate/browse/", (LOGIN, 200, 200, 200, 200)),
    "api_root": ("/api/v1/", (200, 200, 200, 200, 200)),
    "api_runs": ("/api/v1/runs/?dataset={dataset}", (API_ANON, 403, 200, 404, 200)),
    "api_run": ("/api/v1/runs/match-{run}/", (API_ANON, 403, 200, 404, 200)),
    "api_critics": ("/api/v1/critics/", (API_ANON, 200, 200, 200, 200)),
    "api_judgments": (
        "/api/v1/critics/careful-judge/judgments/?dataset={dataset}",
        (API_ANON, 200, 200, 404, 200),
    ),
    "api_checklist": ("/api/v1/pairs/{pair}/checklist/", (API_ANON, 200, 200, 404, 200)),
    "api_datasets": ("/api/v1/datasets/", (API_ANON, 200, 200, 200, 200)),
    "api_dataset": ("/api/v1/datasets/{dataset}/", (API_ANON, 200, 200, 404, 200)),
    "api_export": ("/api/v1/datasets/{dataset}/export/", (API_ANON, 200, 200, 404, 200)),
    "api_pairs": ("/api/v1/pairs/?dataset={dataset}", (API_ANON, 200, 200, 200, 200)),
    "api_figures": ("/api/v1/datasets/{dataset}/figures/", (API_ANON, 403, 200, 404, 200)),
    "api_audit": ("/api/v1/datasets/{dataset}/audit/", (API_ANON, 403, 200, 404, 200)),
    "api_audit_export": (
        "/api/v1/datasets/{dataset}/audit/export/",
        (API_ANON, 403, 200, 404, 200),
    ),
    "schema": ("/api/schema/", (200, 200, 200, 200, 200)),
    "docs": ("/api/docs/", (200, 200, 200, 200, 200)),
    "admin": ("/admin/", (LOGIN, 302, 302, 302, 200)),
}


@pytest.fixture
def world(demo, annotator, reviewer, outsider, superuser):
    join(demo, annotator)
    join(demo, reviewer, role=REVIEWER)
    demo.checklists_per_pair = 2  # slot 0 holds the imported checklist; slot 1 is claimable
    demo.save()
    score_offline("careful-judge", "demo")
    pair = demo.pairs.order_by("position").last()
    checklist = checklist_claim(user=annotator, pair=pair)
    return {
        "dataset": "demo",
        "pair": pair.pk,
        "checklist": checklist.pk,
        "result": MatchResult.objects.filter(label_correct=True).first().pk,
        "run": MatchRun.objects.get().pk,
    }


@pytest.fixture
def clients(annotator, reviewer, outsider, superuser):
    made = {"anon": Client()}
    for role, user in zip(ROLES[1:], (annotator, reviewer, outsider, superuser), strict=True):
        made[role] = Client()
        made[role].force_login(user)
    return made


@pytest.mark.parametrize("name", list(MATRIX))
def test_authorization_matrix(name, world, clients):
    template, expected = MATRIX[name]
    url = template.format(**world)
    got = tuple(clients[role].get(url).status_code for role in ROLES)
    assert got == expected, f"{url}: got {dict(zip(ROLES, got, strict=True))}"


def test_lists_and_filters_leak_nothing_across_datasets(world, clients):
    outsider = clients["outsider"]
    assert outsider.get("/api/v1/pairs/?dataset=demo").json()["count"] == 0
    assert outsider.get("/api/v1/pairs/").json()["count"] == 0
    assert "demo" not in outsider.get("/api/v1/datasets/").content.decode()
    assert b"demo" not in outsider.get("/annotate/").content
    assert b"demo-0" not in outsider.get("/annotate/agreement/").content


@pytest.mark.parametrize(
    "method, template",
    [
        ("post", "/annotate/checklists/{checklist}/save/"),
        ("post", "/annotate/checklists/{checklist}/submit/"),
        ("post", "/annotate/checklists/{checklist}/restore/"),
        ("post", "/annotate/checklists/{checklist}/review/"),
        ("post", "/annotate/pairs/{pair}/claim/"),
        ("post", "/audit/cases/{result}/verdict/"),
        ("post", "/audit/cases/{result}/rerun/"),
        ("post", "/audit/runs/{run}/abort/"),
        ("post", "/audit/{dataset}/runs/start/"),
    ],
)
def test_state_changes_by_an_outsider_are_refused(method, template, world, clients):
    """Guessing ids of another dataset's objects gets nothing: 404 (no hint they exist)."""
    from annotate.models import Checklist, ChecklistRevision

    before = (
        ChecklistRevision.objects.count(),
        Checklist.objects.filter(owner__isnull=False).count(),
    )
    response = getattr(clients["outsider"], method)(template.format(**world), {"atoms": ["x"]})
    assert response.status_code in (403, 404)
    after = (
        ChecklistRevision.objects.count(),
        Checklist.objects.filter(owner__isnull=False).count(),
    )
    assert after == before


@pytest.mark.parametrize(
    "template",
    [
        "/annotate/checklists/{checklist}/review/",
        "/audit/cases/{result}/verdict/",
        "/audit/runs/{run}/abort/",
    ],
)
def test_reviewer_actions_are_refused_to_annotators(template, world, clients):
    response = clients["annotator"].post(template.format(**world), {"action": "approve"})
    assert response.status_code == 403


CSRF_PAGE, CSRF_API = b"CSRF verification failed", b"CSRF Failed"
POSTS = [
    "/annotate/next/",
    "/annotate/pairs/{pair}/claim/",
    "/annotate/checklists/{checklist}/save/",
    "/annotate/checklists/{checklist}/submit/",
    "/annotate/checklists/{checklist}/restore/",
    "/annotate/checklists/{checklist}/review/",
    "/audit/cases/{result}/verdict/",
    "/audit/cases/{result}/rerun/",
    "/audit/runs/{run}/abort/",
    "/audit/runs/{run}/resume/",
    "/accounts/logout/",
    "/accounts/password_change/",
    "/api/v1/reward",
    "/api/v1/datasets/{dataset}/import/",
]


@pytest.mark.parametrize("template", POSTS)
def test_every_state_change_needs_the_csrf_token(template, world, superuser):
    """A session-authenticated POST without the token is refused, htmx or not; with the token
    in the X-CSRFToken header (how htmx sends it, from hx-headers on <body>) it gets through."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    url = template.format(**world)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        refused = client.post(url, {}, **headers)
        assert refused.status_code == 403
        assert CSRF_PAGE in refused.content or CSRF_API in refused.content
    client.get("/annotate/")  # sets the CSRF cookie, as any page does
    token = client.cookies["csrftoken"].value
    passed = client.post(url, {}, HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    # it may still be refused, for other reasons
    assert CSRF_PAGE not in passed.content and CSRF_API not in passed.content


def test_pages_carry_the_csrf_header_for_htmx(world, clients):
    body = clients["annotator"].get("/annotate/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


# --- roles per dataset ----------------------------------------------------------------------

# Reviews another dataset (beta), annotates demo: on demo it is an annotator, but the pages that
# list "what I review" open for it. Its global group says reviewer: groups must not count.
# (The matrix's annotator owns the checklist; another annotator of demo gets 404 for it.)
MIXED_OVERRIDES = {"review_queue": 200, "audit": 200, "checklist": 404, "history": 404}


@pytest.fixture
def mixed(world, beta):
    """A user who annotates demo and reviews beta, and one who reviews demo and annotates beta,
    each in the global group of the *other* role."""
    from django.contrib.auth.models import Group

    from annotate.access import ANNOTATOR, REVIEWER
    from annotate.models import Dataset
    from annotate.services.accounts import user_ensure
    from tests.factories import join

    demo = Dataset.objects.get(name="demo")
    annotates_demo = user_ensure(username="mix-a", password="pw-mix-1234", role=REVIEWER)
    reviews_demo = user_ensure(username="mix-r", password="pw-mix-1234", role=ANNOTATOR)
    join(demo, annotates_demo)
    join(beta, annotates_demo, role=REVIEWER)
    join(demo, reviews_demo, role=REVIEWER)
    join(beta, reviews_demo)
    assert annotates_demo.groups.filter(name=REVIEWER).exists()
    assert not Group.objects.get(name=REVIEWER).user_set.filter(pk=reviews_demo.pk).exists()
    made = {}
    for name, user in (("annotates_demo", annotates_demo), ("reviews_demo", reviews_demo)):
        made[name] = Client()
        made[name].force_login(user)
    return made


@pytest.mark.parametrize("name", list(MATRIX))
def test_roles_belong_to_the_dataset_membership(name, world, mixed):
    template, expected = MATRIX[name]
    url = template.format(**world)
    as_annotator = MIXED_OVERRIDES.get(name, expected[ROLES.index("annotator")])
    as_reviewer = expected[ROLES.index("reviewer")]
    got = (mixed["annotates_demo"].get(url).status_code, mixed["reviews_demo"].get(url).status_code)
    assert got == (as_annotator, as_reviewer), url


def test_review_lists_show_only_reviewed_datasets(world, mixed, beta):
    from annotate.models import Checklist

    Checklist.objects.filter(pk=world["checklist"]).update(status="submitted")
    queue = mixed["annotates_demo"].get("/annotate/review/").content.decode()
    assert f"/annotate/checklists/{world['checklist']}/" not in queue
    assert f"/annotate/checklists/{world['checklist']}/" in (
        mixed["reviews_demo"].get("/annotate/review/").content.decode()
    )
    audit = mixed["annotates_demo"].get("/audit/").content.decode()
    assert "/audit/beta/" in audit and "/audit/demo/" not in audit
    assert mixed["annotates_demo"].get("/audit/beta/").status_code == 200
    review = mixed["annotates_demo"].post(
        f"/annotate/checklists/{world['checklist']}/review/", {"verdict": "approve"}
    )
    assert review.status_code == 403
    assert Checklist.objects.get(pk=world["checklist"]).status == "submitted"
