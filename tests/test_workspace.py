"""Annotator workspace through the Django test client: pages, fragments, roles, locking, XSS."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from annotate.models import AtomSuggestion, Checklist, ChecklistRevision, Review
from annotate.services.assignments import checklist_claim
from annotate.services.checklists import ChecklistConflict, ClaimLost, checklist_save
from tests.factories import PairFactory, UserFactory, checklist_with, join

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def pairs(alpha):
    return [PairFactory(dataset=alpha, domain="code" if i % 2 else "poetry") for i in range(4)]


@pytest.fixture
def claimed(as_annotator, annotator, pairs):
    return checklist_claim(user=annotator, pair=pairs[0])


def save(client, checklist, atoms, version, **extra):
    data = {"atom": atoms, "version": version}
    return client.post(f"/annotate/checklists/{checklist.pk}/save/", data, **extra)


# --- queue ------------------------------------------------------------------------------------


def test_queue_full_page_and_fragment(as_annotator, pairs, django_assert_max_num_queries):
    with django_assert_max_num_queries(11):  # 10 once the dataset counts are cached
        page = as_annotator.get("/annotate/")
    with django_assert_max_num_queries(10):
        as_annotator.get("/annotate/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and "Start next pair" in html and "alpha" in html
    fragment = as_annotator.get("/annotate/?domain=code", **HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert 'id="queue"' in fragment.content.decode()


def test_queue_query_count_does_not_grow_with_rows(
    as_annotator, annotator, alpha, django_assert_num_queries
):
    for _ in range(3):
        checklist_claim(user=annotator, pair=PairFactory(dataset=alpha))
    # 11: the page, one for the navigation (is this user a reviewer?) and one for the dataset
    # ids that key the cached dataset counts (the cache is cold in each measured request)
    cache.clear()
    with django_assert_num_queries(11) as ctx:
        as_annotator.get("/annotate/")
    baseline = len(ctx.captured_queries)
    for _ in range(20):
        checklist_claim(user=annotator, pair=PairFactory(dataset=alpha))
    cache.clear()
    with django_assert_num_queries(baseline):
        as_annotator.get("/annotate/")


def test_queue_filters_by_status(as_annotator, claimed, pairs, annotator):
    other = checklist_claim(user=annotator, pair=pairs[1])
    checklist_save(checklist_id=other.pk, user=annotator, atoms=["Response 1 a b c d"], version=0)
    page = as_annotator.get("/annotate/?status=in_progress").content.decode()
    assert f"/annotate/checklists/{other.pk}/" in page
    assert f"/annotate/checklists/{claimed.pk}/" not in page


def test_outsider_sees_no_alpha_work(as_outsider, pairs):
    page = as_outsider.get("/annotate/").content.decode()
    assert "alpha" not in page
    response = as_outsider.post("/annotate/next/")
    assert response.status_code == 302 and response["Location"] == "/annotate/"


def test_anonymous_is_sent_to_login(client, pairs):
    response = client.get("/annotate/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- claims -----------------------------------------------------------------------------------


def test_claim_next_takes_first_free_pair_and_returns_open_work_first(as_annotator, pairs):
    first = as_annotator.post("/annotate/next/")
    checklist = Checklist.objects.get(owner__username="ann")
    assert first["Location"] == f"/annotate/checklists/{checklist.pk}/"
    assert checklist.pair == pairs[0] and checklist.claim_expires_at > timezone.now()
    again = as_annotator.post("/annotate/next/")
    assert again["Location"] == first["Location"]  # open work first
    skipped = as_annotator.post("/annotate/next/", {"skip": checklist.pk})
    assert Checklist.objects.get(pk=int(skipped["Location"].split("/")[-2])).pair == pairs[1]


def test_claim_respects_filters(as_annotator, pairs):
    response = as_annotator.post("/annotate/next/", {"domain": "code"})
    checklist = Checklist.objects.get(pk=int(response["Location"].split("/")[-2]))
    assert checklist.pair.domain == "code"


def test_two_annotators_never_hold_the_same_slot(alpha, annotator, pairs):
    other = UserFactory(username="ann2")
    join(alpha, other)
    mine = checklist_claim(user=annotator, pair=pairs[0])
    theirs = checklist_claim(user=other, pair=pairs[0])
    assert mine is not None and theirs is None  # k = 1: the pair is held


def test_k_slots_are_independent(alpha, annotator, pairs):
    alpha.checklists_per_pair = 2
    alpha.save()
    other = UserFactory(username="ann2")
    join(alpha, other)
    a = checklist_claim(user=annotator, pair=pairs[0])
    b = checklist_claim(user=other, pair=pairs[0])
    assert {a.slot, b.slot} == {0, 1}
    assert checklist_claim(user=UserFactory(username="ann3"), pair=pairs[0]) is None
    assert checklist_claim(user=annotator, pair=pairs[0]).pk == a.pk  # one slot per annotator


def test_annotator_never_sees_another_draft(client, alpha, annotator, pairs):
    alpha.checklists_per_pair = 2
    alpha.save()
    other = UserFactory(username="ann2")
    join(alpha, other)
    a = checklist_claim(user=annotator, pair=pairs[0])
    checklist_save(checklist_id=a.pk, user=annotator, atoms=["SECRET draft of ann"], version=0)
    checklist_claim(user=other, pair=pairs[0])
    client.force_login(other)
    assert client.get(f"/annotate/checklists/{a.pk}/").status_code == 404
    assert client.get(f"/annotate/checklists/{a.pk}/history/").status_code == 404
    assert "SECRET" not in client.get(f"/annotate/pairs/{pairs[0].pk}/").content.decode()


def test_expired_claim_can_be_taken_over(alpha, annotator, pairs):
    other = UserFactory(username="ann2")
    join(alpha, other)
    held = checklist_claim(user=annotator, pair=pairs[0])
    assert checklist_claim(user=other, pair=pairs[0]) is None
    Checklist.objects.filter(pk=held.pk).update(
        claim_expires_at=timezone.now() - timedelta(minutes=1)
    )
    taken = checklist_claim(user=other, pair=pairs[0])
    assert taken.pk == held.pk and taken.owner == other
    with pytest.raises(ClaimLost):
        checklist_save(checklist_id=held.pk, user=annotator, atoms=["x y"], version=0)


def test_claim_race_second_gets_another_slot(alpha, annotator, pairs, monkeypatch):
    """Simulate the race: both claimers chose the same free row; the CAS lets one win."""
    from annotate.services import assignments

    other = UserFactory(username="ann2")
    join(alpha, other)
    Checklist.objects.create(pair=pairs[0], slot=0)  # an ownerless to-do slot, like HelpSteer3
    original = assignments._take_free_row

    def stale_read(user, pair):
        if user == other and pair == pairs[0]:
            # `other` read the row as free before `annotator` committed its claim
            assignments._take_free_row = original
            checklist_claim(user=annotator, pair=pair)
        return original(user, pair)

    monkeypatch.setattr(assignments, "_take_free_row", stale_read)
    got = assignments.checklist_claim_next(user=other, pairs=pairs)
    assert got is not None and got.pair != pairs[0]
    assert Checklist.objects.get(pair=pairs[0]).owner == annotator


def test_claim_specific_pair_view(as_annotator, as_outsider, pairs):
    response = as_annotator.post(f"/annotate/pairs/{pairs[2].pk}/claim/")
    assert response.status_code == 302
    assert Checklist.objects.get(owner__username="ann").pair == pairs[2]
    assert as_outsider.post(f"/annotate/pairs/{pairs[2].pk}/claim/").status_code == 404


# --- pair view --------------------------------------------------------------------------------


def test_pair_view_full_and_fragment(as_annotator, claimed, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        page = as_annotator.get(f"/annotate/pairs/{claimed.pair_id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Response 1" in html and "Response 2" in html and 'id="editor"' in html
    fragment = as_annotator.get(f"/annotate/checklists/{claimed.pk}/", **HX).content.decode()
    assert "<html" not in fragment and 'id="workspace"' in fragment


def test_pair_view_outsider_404(as_outsider, pairs, claimed):
    assert as_outsider.get(f"/annotate/pairs/{pairs[0].pk}/").status_code == 404
    assert as_outsider.get(f"/annotate/checklists/{claimed.pk}/").status_code == 404
    assert save(as_outsider, claimed, ["x"], 0).status_code == 404


def test_pair_view_shows_preference_and_reasons(as_annotator, alpha):
    pair = PairFactory(dataset=alpha, preference=2, human_reasons=["The second one rhymes"])
    html = as_annotator.get(f"/annotate/pairs/{pair.pk}/").content.decode()
    assert "Human preference: <strong>Response 2</strong>" in html
    assert "The second one rhymes" in html and "Claim this pair" in html


XSS = """Hello <script>alert('x')</script>
<img src=x onerror="alert(1)">
[click](javascript:alert(1)) [c2](JAVASCRIPT:alert(1)) [c3](data:text/html;base64,PHNjcmlwdD4=)
![img](javascript:alert(2))
<a href="javascript:alert(3)">raw</a> <svg onload=alert(4)></svg>
[ref]: javascript:alert(5)
[ref] <iframe src="https://evil.example"></iframe>

```html
<script>alert("in code")</script>
```
"""


def test_untrusted_text_renders_inert(as_annotator, alpha):
    pair = PairFactory(
        dataset=alpha,
        response_1=XSS,
        response_2="**bold** `code`",
        context=[{"role": "user<script>", "content": XSS}],
    )
    html = as_annotator.get(f"/annotate/pairs/{pair.pk}/").content.decode()
    body = html.split('<main id="main"', 1)[1].split("</main>")[0]
    tags = re.findall(r"<([a-zA-Z][\w-]*)([^>]*)>", body)
    assert not {name.lower() for name, _ in tags} & {"img", "svg", "iframe", "script", "object"}
    for _, attrs in tags:
        assert not re.search(r"(href|src)\s*=\s*[\"']?\s*(javascript|data|vbscript):", attrs, re.I)
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", body, re.I)  # no event-handler attribute
    assert "&lt;script&gt;" in body  # shown as text
    assert "<strong>bold</strong>" in body and "<code>code</code>" in body
    assert 'class="highlight"' in body  # fenced code is highlighted, still escaped


# --- saving, locking, history -----------------------------------------------------------------


def test_save_creates_revisions_and_fragment_returns_version(as_annotator, claimed):
    first = save(as_annotator, claimed, ["Response 1 keeps line 3 intact.", " "], 0, **HX)
    assert first.status_code == 200
    assert 'id="version"' in first.content.decode() and 'value="1"' in first.content.decode()
    second = save(as_annotator, claimed, ["Response 1 keeps line 3.", "Response 2 a b c"], 1, **HX)
    assert second.status_code == 200
    claimed.refresh_from_db()
    assert claimed.version == 2 and claimed.status == "in_progress"
    assert list(claimed.revisions.values_list("number", flat=True)) == [1, 2]
    assert claimed.atoms == ["Response 1 keeps line 3.", "Response 2 a b c"]


def test_unchanged_autosave_is_not_a_revision(as_annotator, claimed):
    save(as_annotator, claimed, ["Response 1 a b c d"], 0, **HX)
    save(as_annotator, claimed, ["Response 1 a b c d"], 1, **HX)
    assert ChecklistRevision.objects.filter(checklist=claimed).count() == 1


def test_conflict_is_409_with_both_versions(as_annotator, claimed):
    save(as_annotator, claimed, ["Tab A wrote this"], 0, **HX)
    response = save(as_annotator, claimed, ["Tab B wrote that"], 0, **HX)
    html = response.content.decode()
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#conflict"
    assert "Tab A wrote this" in html and "Tab B wrote that" in html and "Keep my version" in html
    claimed.refresh_from_db()
    assert claimed.atoms == ["Tab A wrote this"]  # nothing overwritten silently
    keep = save(as_annotator, claimed, ["Tab B wrote that"], 1, **HX)
    assert keep.status_code == 200
    assert claimed.revisions.count() == 2


def test_concurrent_cas_raises_conflict(annotator, claimed):
    checklist_save(checklist_id=claimed.pk, user=annotator, atoms=["one two"], version=0)
    with pytest.raises(ChecklistConflict):
        checklist_save(checklist_id=claimed.pk, user=annotator, atoms=["three"], version=0)


def test_staleness_hook_runs_on_commit(
    annotator, claimed, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    import metajudge.matching.staleness as staleness

    monkeypatch.setattr(staleness, "mark_pair_stale", lambda pair_id: calls.append(pair_id) or 0)
    with django_capture_on_commit_callbacks(execute=True):
        checklist_save(checklist_id=claimed.pk, user=annotator, atoms=["a b"], version=0)
    assert calls == [claimed.pair_id]


def test_history_diff_restore(as_annotator, claimed):
    save(as_annotator, claimed, ["alpha atom", "beta atom"], 0)
    save(as_annotator, claimed, ["alpha atom", "gamma atom"], 1)
    history = as_annotator.get(f"/annotate/checklists/{claimed.pk}/history/")
    assert history.status_code == 200 and "Restore 1" in history.content.decode()
    diff = as_annotator.get(f"/annotate/checklists/{claimed.pk}/diff/?a=1&b=2", **HX)
    html = diff.content.decode()
    assert "<html" not in html
    assert "<del>beta atom</del>" in html and "<ins>gamma atom</ins>" in html
    restore = as_annotator.post(
        f"/annotate/checklists/{claimed.pk}/restore/", {"number": 1, "version": 2}
    )
    assert restore.status_code == 302
    claimed.refresh_from_db()
    assert claimed.atoms == ["alpha atom", "beta atom"] and claimed.current.source == "restore"
    assert claimed.revisions.count() == 3


def test_submit_requires_atoms_then_locks(as_annotator, claimed):
    as_annotator.post(f"/annotate/checklists/{claimed.pk}/submit/", {"version": 0})
    claimed.refresh_from_db()
    assert claimed.status == "todo"
    as_annotator.post(
        f"/annotate/checklists/{claimed.pk}/submit/",
        {"atom": ["Response 1 keeps line 3."], "version": 0},
    )
    claimed.refresh_from_db()
    assert claimed.status == "submitted" and claimed.submitted_at is not None
    assert save(as_annotator, claimed, ["late edit"], 1, **HX).status_code == 422


def test_failed_validation_keeps_text(as_annotator, claimed):
    response = save(as_annotator, claimed, ["x" * 2000], 0, **HX)
    assert response.status_code == 422 and "over 1000 characters" in response.content.decode()


# --- suggestions ------------------------------------------------------------------------------


def test_import_suggestion_accept_edit_reject(as_annotator, annotator, alpha):
    alpha.checklists_per_pair = 2
    alpha.save()
    pair = PairFactory(dataset=alpha)
    checklist_with(pair, ["Response 1 keeps the meter in line 2.", "Response 2 rhymes badly."])
    mine = checklist_claim(user=annotator, pair=pair)
    assert mine.slot == 1
    AtomSuggestion.objects.create(pair=pair, text="Response 2 repeats line 1.", source="atomizer")
    page = as_annotator.get(f"/annotate/checklists/{mine.pk}/").content.decode()
    assert "Response 1 keeps the meter in line 2." in page and "Atomizer" in page
    s1, s2, s3 = AtomSuggestion.objects.filter(pair=pair).order_by("source", "position")
    url = f"/annotate/checklists/{mine.pk}/suggestions/"
    response = as_annotator.post(
        f"{url}{s2.pk}/", {"action": "accept", "atom": [], "version": 0}, **HX
    )
    assert response.status_code == 200 and 'id="workspace"' in response.content.decode()
    as_annotator.post(
        f"{url}{s3.pk}/",
        {
            "action": "accept",
            "text": "Response 2 rhymes badly in line 3.",
            "atom": [s2.text],
            "version": 1,
        },
        **HX,
    )
    both = [s2.text, "Response 2 rhymes badly in line 3."]
    as_annotator.post(f"{url}{s1.pk}/", {"action": "reject", "atom": both, "version": 2}, **HX)
    mine.refresh_from_db()
    assert mine.atoms == [s2.text, "Response 2 rhymes badly in line 3."]
    s1.refresh_from_db()
    assert s1.state == "rejected" and s1.decided_by == annotator
    page = as_annotator.get(f"/annotate/checklists/{mine.pk}/").content.decode()
    assert "Suggested atoms" not in page


# --- review -----------------------------------------------------------------------------------


@pytest.fixture
def submitted(annotator, claimed):
    checklist_save(checklist_id=claimed.pk, user=annotator, atoms=["Response 1 a b c"], version=0)
    from annotate.services.checklists import checklist_submit

    return checklist_submit(checklist_id=claimed.pk, user=annotator, version=1)


def test_review_queue_roles(as_reviewer, as_annotator, as_outsider, submitted):
    page = as_reviewer.get("/annotate/review/")
    assert page.status_code == 200
    assert f"/annotate/checklists/{submitted.pk}/" in page.content.decode()
    assert as_reviewer.get("/annotate/review/", **HX).content.decode().count("<html") == 0
    assert as_annotator.get("/annotate/review/").status_code == 403
    assert as_outsider.get("/annotate/review/").status_code == 403


def test_review_actions_wrong_role_and_outsider(as_annotator, as_outsider, submitted):
    url = f"/annotate/checklists/{submitted.pk}/review/"
    assert as_annotator.post(url, {"verdict": "approve"}).status_code == 403
    assert as_outsider.post(url, {"verdict": "approve"}).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_send_back_needs_comment_and_annotator_sees_why(as_reviewer, as_annotator, submitted):
    url = f"/annotate/checklists/{submitted.pk}/review/"
    as_reviewer.post(url, {"verdict": "send_back", "comment": ""})
    submitted.refresh_from_db()
    assert submitted.status == "submitted"
    as_reviewer.post(url, {"verdict": "send_back", "comment": "Atom 1 <b>names</b> no line."})
    submitted.refresh_from_db()
    assert submitted.status == "sent_back"
    html = as_annotator.get(f"/annotate/checklists/{submitted.pk}/").content.decode()
    assert "Sent back" in html and "Atom 1 &lt;b&gt;names&lt;/b&gt; no line." in html
    assert 'id="editor"' in html  # editable again
    queue = as_annotator.get("/annotate/?status=sent_back").content.decode()
    assert f"/annotate/checklists/{submitted.pk}/" in queue


def test_approve(as_reviewer, submitted):
    as_reviewer.post(f"/annotate/checklists/{submitted.pk}/review/", {"verdict": "approve"})
    submitted.refresh_from_db()
    assert submitted.status == "approved"
    assert Review.objects.get().revision_id == submitted.current_id


def test_reviewer_reads_checklist_readonly(as_reviewer, submitted, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        html = as_reviewer.get(f"/annotate/checklists/{submitted.pk}/").content.decode()
    assert 'id="editor"' not in html and "Send back" in html


# --- agreement --------------------------------------------------------------------------------


def test_human_agreement_selector_and_page(as_annotator, alpha):
    from annotate.selectors_agreement import human_agreement

    same = ["Response 1 keeps the 5-7-5 meter in every line.", "Response 2 drops the season word."]
    for i in range(2):
        pair = PairFactory(dataset=alpha)
        checklist_with(pair, same, slot=0)
        checklist_with(pair, same if i == 0 else ["Response 2 misspells the title."], slot=1)
    PairFactory(dataset=alpha)  # a pair with no checklists does not count
    result = human_agreement(alpha)
    assert result["pairs"] == 2
    assert 0.0 <= result["mean_recall"] <= 1.0
    assert result["max_recall"] == 1.0 and result["min_recall"] < 1.0
    page = as_annotator.get("/annotate/agreement/")
    assert page.status_code == 200 and "alpha" in page.content.decode()
    assert "<html" not in as_annotator.get("/annotate/agreement/", **HX).content.decode()


def test_human_agreement_empty(alpha):
    from annotate.selectors_agreement import human_agreement

    assert human_agreement(alpha) == {
        "pairs": 0,
        "candidates": 0,
        "skipped": 0,
        "mean_recall": None,
        "min_recall": None,
        "max_recall": None,
        "matcher": "offline",
    }
