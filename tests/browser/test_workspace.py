"""The annotator workspace in real headless Chromium: keyboard editing, autosave, conflicts,
submit, review and send back. Every screen is saved under tests/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from annotate.models import AtomSuggestion, Checklist
from annotate.services.assignments import checklist_claim
from annotate.services.checklists import checklist_save, checklist_submit
from tests.factories import PairFactory

RESPONSE_1 = """Here is a haiku:

```python
def haiku():
    return "An old silent pond / A frog jumps into the pond / Splash! Silence again."
```

It keeps **5-7-5**. <script>window.pwned = 1</script>"""


@pytest.fixture
def pair(alpha):
    return PairFactory(
        dataset=alpha,
        domain="poetry",
        response_1=RESPONSE_1,
        response_2="A frog jumps in\n\n- no season word\n- [link](javascript:alert(1))",
        context=[{"role": "user", "content": "Write a **haiku** about a pond."}],
        human_reasons=["Response 1 keeps the syllable count.", "Response 2 has no kigo."],
    )


def saved_atoms(checklist_id):
    return Checklist.objects.get(pk=checklist_id).atoms


def atom(page, n):
    return page.get_by_role("textbox", name=f"Atom {n}", exact=True)


def wait_saved(page, revision=None):
    """Wait until the last edit is saved (any edit turns the status back to "Unsaved")."""
    number = str(revision) if revision else r"\d+"
    expect(page.locator("#save-status")).to_have_text(re.compile(rf"Saved · revision {number}\b"))


@pytest.mark.django_db(transaction=True)
def test_claim_edit_with_keyboard_autosave_submit(login, annotator, pair, live_server, shot):
    AtomSuggestion.objects.create(
        pair=pair, text="Response 2 omits the season word in line 1.", source="atomizer"
    )
    page = login("ann", "pw-ann-1234")
    expect(page.get_by_role("row", name="alpha")).to_be_visible()
    shot(page, "workspace-queue")

    page.keyboard.press("n")  # claim the next pair
    page.wait_for_url(re.compile(r"/annotate/checklists/\d+/$"))
    checklist_id = int(page.url.rstrip("/").split("/")[-1])
    assert page.evaluate("window.pwned") is None  # the <script> in the response stayed text
    expect(page.locator(".ws-response .highlight")).to_be_visible()
    shot(page, "workspace-pair")

    page.keyboard.press("j")  # focus the first atom
    expect(atom(page, 1)).to_be_focused()
    page.keyboard.type("The haiku is nice and also short; great")
    expect(page.locator("#hints-1")).to_contain_text("more than one claim")
    expect(page.locator("#hints-1")).to_contain_text("Vague")
    page.keyboard.press("Control+a")
    page.keyboard.type("Response 1 keeps the 5-7-5 count in every line.")
    expect(page.locator("#hints-1")).to_be_empty()
    page.keyboard.press("Enter")
    expect(atom(page, 2)).to_be_focused()
    page.keyboard.type("Response 2 has no season word in its first line.")
    page.keyboard.press("Alt+ArrowUp")  # reorder: atom 2 becomes atom 1
    expect(atom(page, 1)).to_have_value("Response 2 has no season word in its first line.")
    wait_saved(page)
    assert saved_atoms(checklist_id) == [
        "Response 2 has no season word in its first line.",
        "Response 1 keeps the 5-7-5 count in every line.",
    ]
    shot(page, "workspace-editor")

    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    shot(page, "workspace-shortcuts")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()

    page.keyboard.press("y")  # accept the first suggestion
    expect(atom(page, 3)).to_have_value("Response 2 omits the season word in line 1.")
    expect(page.locator(".suggestion")).to_have_count(0)
    assert len(saved_atoms(checklist_id)) == 3

    page.keyboard.press("k")  # last atom; an empty atom + Backspace deletes it
    page.keyboard.press("Enter")
    expect(atom(page, 4)).to_be_focused()
    page.keyboard.press("Backspace")
    expect(page.locator("#atoms > li")).to_have_count(3)

    page.keyboard.press("Control+Enter")
    expect(page.locator(".status-submitted").first).to_be_visible()
    assert Checklist.objects.get(pk=checklist_id).status == "submitted"
    shot(page, "workspace-submitted")


@pytest.mark.django_db(transaction=True)
def test_failed_save_keeps_text_and_retries(login, annotator, pair, live_server, shot):
    checklist = checklist_claim(user=annotator, pair=pair)
    page = login("ann", "pw-ann-1234")
    page.goto(f"{live_server.url}/annotate/checklists/{checklist.pk}/")
    page.route("**/save/", lambda route: route.abort("connectionrefused"))
    atom(page, 1).fill("Response 1 quotes line 2 exactly.")
    status = page.locator("#save-status")
    expect(status).to_contain_text("Not saved")
    expect(status).to_contain_text("Your text is still here")
    expect(atom(page, 1)).to_have_value("Response 1 quotes line 2 exactly.")
    shot(page, "workspace-save-failed")
    page.unroute("**/save/")
    expect(status).to_contain_text("revision 1", timeout=8000)
    assert saved_atoms(checklist.pk) == ["Response 1 quotes line 2 exactly."]


@pytest.mark.django_db(transaction=True)
def test_conflict_between_two_browser_contexts(login, annotator, pair, live_server, shot):
    checklist = checklist_claim(user=annotator, pair=pair)
    url = f"{live_server.url}/annotate/checklists/{checklist.pk}/"
    laptop, desktop = login("ann", "pw-ann-1234"), login("ann", "pw-ann-1234")
    laptop.goto(url)
    desktop.goto(url)

    atom(laptop, 1).fill("Response 1 rhymes in lines 1 and 3, from the laptop.")
    wait_saved(laptop, 1)
    atom(desktop, 1).fill("Response 2 drops the kigo in line 1, from the desktop.")
    conflict = desktop.get_by_role("alert")
    expect(conflict).to_contain_text("changed elsewhere")
    expect(conflict).to_contain_text("from the laptop")
    expect(conflict).to_contain_text("from the desktop")
    assert saved_atoms(checklist.pk) == ["Response 1 rhymes in lines 1 and 3, from the laptop."]
    shot(desktop, "workspace-conflict")

    desktop.get_by_role("button", name="Keep my version").click()
    wait_saved(desktop, 2)
    expect(desktop.locator("#conflict")).to_be_empty()
    assert saved_atoms(checklist.pk) == ["Response 2 drops the kigo in line 1, from the desktop."]

    laptop.goto(f"{url}history/")
    expect(laptop.get_by_role("row")).to_have_count(3)  # header + 2 revisions
    laptop.get_by_role("link", name="Diff with 1").click()
    expect(laptop.locator("#diff del")).to_contain_text("from the laptop")
    expect(laptop.locator("#diff ins")).to_contain_text("from the desktop")
    shot(laptop, "workspace-history")
    laptop.get_by_role("button", name="Restore 1").click()
    laptop.wait_for_url(url)
    assert saved_atoms(checklist.pk) == ["Response 1 rhymes in lines 1 and 3, from the laptop."]


@pytest.mark.django_db(transaction=True)
def test_review_send_back_and_approve(login, annotator, reviewer, pair, alpha, live_server, shot):
    checklist = checklist_claim(user=annotator, pair=pair)
    checklist_save(
        checklist_id=checklist.pk, user=annotator, atoms=["Response 1 is better."], version=0
    )
    checklist_submit(checklist_id=checklist.pk, user=annotator, version=1)

    rev = login("rev", "pw-rev-1234")
    rev.goto(f"{live_server.url}/annotate/review/")
    shot(rev, "workspace-review-queue")
    rev.get_by_role("link", name=str(pair)).click()
    expect(rev.locator(".ws-hints")).to_contain_text("Vague")  # reviewers see the hints too
    rev.get_by_label("Comment for the annotator").fill("Atom 1 is a verdict: say which line.")
    shot(rev, "workspace-review-checklist")
    rev.get_by_role("button", name="Send back").click()
    rev.wait_for_url(re.compile(r"/annotate/review/$"))
    expect(rev.get_by_role("cell", name="Nothing waits for review.")).to_be_visible()

    ann = login("ann", "pw-ann-1234")
    ann.goto(f"{live_server.url}/annotate/?status=sent_back")
    ann.get_by_role("link", name=str(pair)).click()
    expect(ann.get_by_role("note")).to_contain_text("Atom 1 is a verdict: say which line.")
    atom(ann, 1).fill("Response 1 keeps 5-7-5 in its code block's string.")
    wait_saved(ann)
    shot(ann, "workspace-sent-back")
    ann.get_by_role("button", name=re.compile("Submit for review")).click()
    expect(ann.locator(".status-submitted").first).to_be_visible()

    rev.reload()
    rev.locator("#review-queue").get_by_role("link", name=str(pair)).click()
    rev.get_by_role("button", name="Approve").click()
    rev.wait_for_url(re.compile(r"/annotate/review/$"))
    assert Checklist.objects.get(pk=checklist.pk).status == "approved"


@pytest.mark.django_db(transaction=True)
def test_keyboard_only_focus_is_visible(login, annotator, pair, live_server):
    checklist = checklist_claim(user=annotator, pair=pair)
    page = login("ann", "pw-ann-1234")
    page.goto(f"{live_server.url}/annotate/checklists/{checklist.pk}/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("a")  # shortcut, not typed: focus is on a link
    expect(atom(page, 2)).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
