"""No dead ends: styled error pages with a way back, a favicon, API docs with a link home."""

import pytest
from django.test import Client, RequestFactory

from config.errors import server_error


@pytest.mark.django_db
def test_404_is_styled_with_a_way_back(as_annotator):
    page = as_annotator.get("/no/such/page/")
    html = page.content.decode()
    assert page.status_code == 404 and "Page not found" in html and "Back to the app" in html
    assert 'rel="stylesheet"' in html
    anonymous = Client().get("/no/such/page/")
    assert anonymous.status_code == 404 and 'href="/accounts/login/"' in anonymous.content.decode()


@pytest.mark.django_db
def test_403_for_an_annotator_on_an_audit_page_is_styled(as_annotator):
    page = as_annotator.get("/audit/")
    html = page.content.decode()
    assert page.status_code == 403 and "Not for your role" in html
    assert "Audit pages are for reviewers" in html and 'href="/"' in html


def test_500_page_is_styled_without_a_request_context():
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500 and "Back to the app" in html and "app.css" in html


@pytest.mark.django_db
def test_favicon_and_api_docs_link_back(client):
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301 and favicon["Location"].endswith("favicon.svg")
    docs = client.get("/api/docs/").content.decode()
    assert "Back to the app" in docs and 'href="/api/v1/"' in docs
    assert 'href="/static/favicon.svg"' in client.get("/accounts/login/").content.decode()
