"""The browsable API (the "API docs" link's pages, in a browser) answers every list and detail
a person may read, forms included: the form of a change is built from the input it takes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.helpers import World, login
from tests.test_api_output import a_full_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=str(tmp_path)):
        yield tmp_path


def test_every_list_and_detail_opens_in_the_browser(world: World) -> None:
    urls = a_full_record(world)
    for person in (world.center_coordinator, world.community_coordinator):
        client = login(Client(), person)
        for url in urls:
            response = client.get(url, headers={"accept": "text/html"})
            assert response.status_code in (200, 404), (person, url, response.status_code)
            if response.status_code == 200:
                assert response["content-type"].startswith("text/html"), url
    outsider = login(Client(), world.outsider)
    for url in urls:
        page = outsider.get(url, headers={"accept": "text/html"})
        assert page.status_code in (200, 404), url
        assert world.shared_patient.family_name not in page.content.decode(), url  # in no form's choices either
    patient = outsider.get(f"/api/patients/{world.shared_patient.pk}/", headers={"accept": "text/html"})
    assert patient.status_code == 404


def test_the_patients_change_form_offers_what_a_change_takes(world: World) -> None:
    client = login(Client(), world.community_coordinator)
    page = client.get(f"/api/patients/{world.shared_patient.pk}/", headers={"accept": "text/html"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "&quot;capabilities&quot;" in text  # the answer shows what the reader may do
    assert 'name="_content"' in text  # the raw form of a change, with what a change takes
    raw = text.split('name="_content"', 1)[1].split("</textarea>", 1)[0]
    assert "&quot;caregiver_phone&quot;" in raw and "&quot;capabilities&quot;" not in raw


def test_the_pages_keep_to_the_content_security_policy_and_name_the_icon(world: World) -> None:
    """No inline style (the policy allows the site's own stylesheets only: a browser refused
    each, logging an error), the site's icon (unnamed, the browser asked for /favicon.ico) and
    a phone's viewport (without, a phone drew it 980 px wide)."""
    client = login(Client(), world.center_coordinator)
    for url in a_full_record(world):
        page = client.get(url, headers={"accept": "text/html"})
        if page.status_code != 200:
            continue
        text = page.content.decode()
        assert "<style" not in text and " style=" not in text, url
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in text, url
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text, url
