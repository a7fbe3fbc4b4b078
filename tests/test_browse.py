"""Browse pairs: search and filter, open read-only without claiming; triage and case link in."""

import pytest

from annotate.models import Checklist
from tests.factories import PairFactory

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def browsable(alpha, beta):
    alpha.checklists_per_pair = 2
    alpha.save()
    poem = PairFactory(dataset=alpha, domain="general", external_id="poem-1")
    poem.response_1 = "A sonnet about the tide and the moon"
    poem.save()
    code = PairFactory(dataset=alpha, domain="code", external_id="code-7")
    hidden = PairFactory(dataset=beta, domain="code", external_id="secret-3")
    return {"poem": poem, "code": code, "hidden": hidden}


@pytest.mark.django_db
def test_search_and_filters(browsable, as_annotator, alpha):
    page = as_annotator.get("/annotate/browse/")
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert "poem-1" in html and "code-7" in html and "secret-3" not in html
    by_text = as_annotator.get("/annotate/browse/?q=sonnet", **HX).content.decode()
    assert "<html" not in by_text and "poem-1" in by_text and "code-7" not in by_text
    by_id = as_annotator.get(f"/annotate/browse/?q={browsable['code'].pk}").content.decode()
    assert "code-7" in by_id and "poem-1" not in by_id
    by_domain = as_annotator.get("/annotate/browse/?domain=code").content.decode()
    assert "code-7" in by_domain and "poem-1" not in by_domain
    unannotated = as_annotator.get("/annotate/browse/?status=unannotated").content.decode()
    assert "code-7" in unannotated
    assert "code-7" not in as_annotator.get("/annotate/browse/?status=done").content.decode()


@pytest.mark.django_db
def test_outsider_sees_only_their_dataset(browsable, as_outsider):
    html = as_outsider.get("/annotate/browse/?q=poem").content.decode()
    assert "poem-1" not in html and "No pair matches" in html
    assert "secret-3" in as_outsider.get("/annotate/browse/").content.decode()
    assert as_outsider.get(f"/annotate/pairs/{browsable['poem'].pk}/").status_code == 404


@pytest.mark.django_db
def test_opening_a_pair_claims_nothing(browsable, as_reviewer, as_annotator):
    pair = browsable["poem"]
    for client in (as_reviewer, as_annotator):
        page = client.get(f"/annotate/pairs/{pair.pk}/")
        assert page.status_code == 200 and "sonnet" in page.content.decode()
    assert not Checklist.objects.filter(pair=pair, owner__isnull=False).exists()
