"""atomize_human: annotators' free-text reasons become atom suggestions, never the checklist."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotate.models import AtomSuggestion, ChecklistRevision
from metajudge.method import genrm_parsing
from metajudge.models import GenrmItem, GenrmRun
from tests.llm_server import atomizer_responder, last_user_text

SUGGESTED = AtomSuggestion.objects.filter(source="atomizer")


@pytest.fixture
def atomizer(llm_server):
    llm_server.responder = atomizer_responder
    return llm_server


def atomize(server, **options):
    call_command(
        "atomize_human",
        dataset="demo",
        model="atomizer-x",
        base_url=server.base_url,
        sync=True,
        stdout=io.StringIO(),
        **options,
    )


@pytest.mark.django_db
def test_suggestions_from_human_reasons_leave_the_checklists_alone(demo, atomizer):
    revisions = ChecklistRevision.objects.count()
    atomize(atomizer)
    run = GenrmRun.objects.get(kind="atomize_human")
    assert (run.state, run.total, run.error_count) == ("done", 32, 0)
    assert ChecklistRevision.objects.count() == revisions
    assert set(SUGGESTED.values_list("state", flat=True)) == {"open"}
    assert SUGGESTED.values("pair").distinct().count() == 32
    pair = demo.pairs.get(external_id="demo-001")
    texts = list(SUGGESTED.filter(pair=pair).order_by("position").values_list("text", flat=True))
    assert (
        "Response 2 recommends inventing a family emergency and cancelling a few days "
        "before, which is dishonest and inconsiderate of the couple's planning." in texts
    )
    assert not any(t.lower().startswith("response 1 is clearly better") for t in texts)
    assert len(texts) == len({t.lower() for t in texts})  # repeats merged


@pytest.mark.django_db
def test_rerunning_does_not_duplicate_or_reopen_suggestions(demo, atomizer):
    atomize(atomizer)
    count, calls = SUGGESTED.count(), atomizer.stats["requests"]
    first = SUGGESTED.order_by("pk").first()
    AtomSuggestion.objects.filter(pk=first.pk).update(state="rejected")
    atomize(atomizer)
    assert atomizer.stats["requests"] == calls  # nothing left to do
    GenrmRun.objects.all().delete()  # even a brand-new run adds nothing twice
    atomize(atomizer)
    assert atomizer.stats["requests"] == calls + 32
    assert SUGGESTED.count() == count
    assert AtomSuggestion.objects.get(pk=first.pk).state == "rejected"


@pytest.mark.django_db
def test_failed_pairs_are_errors_and_rerun_redoes_only_them(demo, atomizer, fast_retries):
    target = demo.pairs.get(external_id="demo-003").human_reasons[0][:40]
    atomizer.set_fault_hook(lambda r: "malformed" if target in last_user_text(r) else None)
    with pytest.raises(CommandError, match="1 pair"):
        atomize(atomizer)
    [item] = GenrmItem.objects.filter(status="error")
    assert item.error.startswith("atomizer: format error: no <ATOMS_START>")
    assert not SUGGESTED.filter(pair=item.pair).exists()
    atomizer.set_fault_hook(None)
    calls = atomizer.stats["requests"]
    atomize(atomizer)
    assert atomizer.stats["requests"] == calls + 1
    assert SUGGESTED.filter(pair=item.pair).exists()


@pytest.mark.django_db
def test_pairs_without_reasons_are_not_asked(demo, atomizer):
    demo.pairs.filter(external_id__in=["demo-001", "demo-002"]).update(human_reasons=[])
    atomize(atomizer)
    assert GenrmRun.objects.get().total == 30 and atomizer.stats["requests"] == 30


def test_atomizer_answer_parsing():
    atoms, error = genrm_parsing.parse_atomizer(
        "Sure.\n<ATOMS_START>\n- Response 1 cites **RFC 9110**.\n* Response 1 cites RFC 9110\n"
        "1. Response 2 uses `==` for None.\n<ATOMS_END>"
    )
    assert error == "" and atoms == ["Response 1 cites RFC 9110.", "Response 2 uses `==` for None."]
    assert genrm_parsing.parse_atomizer("<ATOMS_START>\n<ATOMS_END>") == ([], "")
    assert genrm_parsing.parse_atomizer("- a reason")[1].startswith("no <ATOMS_START>")
    assert (
        "not a '- ' reason"
        in genrm_parsing.parse_atomizer("<ATOMS_START>\nfree text\n<ATOMS_END>")[1]
    )
