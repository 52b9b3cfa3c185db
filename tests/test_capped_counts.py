"""A list page counts its rows only up to LIST_COUNT_CAP: beyond it the page says "more than N",
pages through the first N and points to the filters and the export, so that the page costs the
same for someone who sees the whole network as for someone who sees fifty patients."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carecoord.models import Site
from carecoord.web.list_forms import CappedPaginator
from tests.helpers import World, another_record, login, small_record

pytestmark = pytest.mark.django_db

LISTS = {  # each list page, what its count names, and a query that has both records' rows
    "referral-list": ("referral", ""),
    "alert-list": ("alert", "?grade=2"),  # unfiltered, its line counts the waiting and the acknowledged
    "my-handoffs": ("hand-off", ""),
    "milestones-due": ("milestone", "?window=fortnight"),
}
NOTE = "The pages go as far as the first"


@pytest.fixture
def records(world: World, tmp_media: Path) -> None:
    """Two patients shared by the practice and the center: at least two rows in every list."""
    small_record(world)
    another_record(world)


def test_counting_stops_one_row_past_the_cap_in_any_order(world: World) -> None:
    sites = Site.objects.order_by("name")
    assert sites.count() >= 3
    capped = CappedPaginator(sites, 50, cap=2)
    with CaptureQueriesContext(connection) as queries:
        assert capped.count == 2
    assert capped.capped
    (count,) = queries.captured_queries
    assert "LIMIT 3" in count["sql"] and "ORDER BY" not in count["sql"]
    assert capped.num_pages == 1 and len(capped.page(1)) == 2
    exact = CappedPaginator(sites, 50, cap=sites.count())
    assert exact.count == sites.count() and not exact.capped


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.usefixtures("records")
def test_a_list_past_the_cap_says_more_than_and_pages_to_the_cap(client: Client, world: World, name: str) -> None:
    noun, query = LISTS[name]
    login(client, world.center_coordinator)
    url = reverse(name) + query
    whole = client.get(url)
    total = whole.context["page"].paginator.count
    assert total >= 2 and not whole.context["page"].paginator.capped
    assert f"{total} {noun}s" in whole.content.decode() and NOTE not in whole.content.decode()
    with override_settings(LIST_COUNT_CAP=1):
        response = client.get(url)
    page = response.context["page"]
    html = response.content.decode()
    assert page.paginator.capped and page.paginator.count == 1 and len(page.object_list) == 1
    assert f"more than 1 {noun}" in html
    assert NOTE in html and "export it to have every row" in html


@pytest.mark.usefixtures("records")
def test_the_unfiltered_patient_list_counts_the_grants_up_to_the_cap(client: Client, world: World) -> None:
    """Every patient the person sees, counted on the grants' index alone and no further than
    the cap: the exact count read every grant of the network coordinator's 10,000 patients."""
    login(client, world.center_coordinator)
    whole = client.get(reverse("dashboard"))
    total = whole.context["page"].paginator.count
    assert total >= 2 and f"{total} patients." in whole.content.decode()
    with override_settings(LIST_COUNT_CAP=1), CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard"))
    page = response.context["page"]
    assert page.paginator.capped and page.paginator.count == 1 and len(page.object_list) == 1
    assert "More than 1 patient" in response.content.decode() and NOTE in response.content.decode()
    (count,) = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*) FROM (SELECT DISTINCT")
    ]
    assert "LIMIT 2" in count and 'FROM "carecoord_patient"' not in count
