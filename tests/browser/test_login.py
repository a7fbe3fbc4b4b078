import pytest


@pytest.mark.django_db(transaction=True)
def test_login_shows_datasets(login, annotator, live_server, shot):
    import io  # noqa: E401
    import json

    from annotate.services.imports import import_pairs

    record = {"id": "x1", "response1": "a", "response2": "b", "overall_preference": 1}
    import_pairs(stream=io.BytesIO(json.dumps(record).encode()), dataset_name="alpha")
    page = login("ann", "pw-ann-1234")
    assert page.url.endswith("/annotate/")
    assert page.get_by_role("row", name="alpha").is_visible()
    shot(page, "annotate-index")


@pytest.mark.django_db(transaction=True)
def test_wrong_password_is_refused(login, annotator):
    page = login("ann", "wrong")
    assert "/accounts/login/" in page.url
    assert (
        page.get_by_role("alert")
        .inner_text()
        .startswith("Please enter a correct username and password")
    )
