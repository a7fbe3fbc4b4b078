"""Blind independent slots: with several checklists per pair, the imported checklist's atoms
(and so any other slot's) are not offered in another slot's editor."""

import pytest

from annotate.models import AtomSuggestion
from annotate.services.assignments import checklist_claim
from tests.factories import DatasetFactory, PairFactory, checklist_with, join

IMPORTED = "Response 1 keeps the meter in line 2."


def _claimed(dataset, annotator):
    join(dataset, annotator)
    pair = PairFactory(dataset=dataset)
    checklist_with(pair, [IMPORTED])
    AtomSuggestion.objects.create(pair=pair, text="Response 2 repeats line 1.", source="atomizer")
    mine = checklist_claim(user=annotator, pair=pair)
    assert mine.slot == 1
    return mine


@pytest.mark.django_db
def test_default_follows_k_at_creation():
    assert DatasetFactory(name="k2", checklists_per_pair=2).blind_slots is True
    assert DatasetFactory(name="k1").blind_slots is False


@pytest.mark.django_db
def test_blind_slot_offers_no_imported_atoms(as_annotator, annotator):
    mine = _claimed(DatasetFactory(name="blind", checklists_per_pair=2), annotator)
    page = as_annotator.get(f"/annotate/checklists/{mine.pk}/").content.decode()
    assert IMPORTED not in page
    assert "Response 2 repeats line 1." in page  # the atomizer's suggestions stay


@pytest.mark.django_db
def test_setting_off_offers_them(as_annotator, annotator):
    dataset = DatasetFactory(name="open", checklists_per_pair=2, blind_slots=False)
    mine = _claimed(dataset, annotator)
    assert IMPORTED in as_annotator.get(f"/annotate/checklists/{mine.pk}/").content.decode()


@pytest.mark.django_db
def test_the_setting_is_in_the_admin(as_superuser):
    dataset = DatasetFactory(name="adm", checklists_per_pair=2)
    page = as_superuser.get(f"/admin/annotate/dataset/{dataset.pk}/change/").content.decode()
    assert 'name="blind_slots"' in page
