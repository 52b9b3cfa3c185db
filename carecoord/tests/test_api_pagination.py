"""The API lists' pages (`carecoord.api.pagination.ListPagination`): every row reachable through
`next`, `count` exact up to LIST_COUNT_CAP and null beyond (`more_than` says the cap), unless
asked with `count=exact`; the rows counted only as far as the page needs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from carecoord.api.pagination import ListPagination
from tests.factories import patient_at
from tests.helpers import World, api

pytestmark = pytest.mark.django_db

# A filter, so that the list is counted on its rows (unfiltered, the patient list counts the grants).
FILTERED = "/api/patients/?disease_area=lbcl"


@pytest.fixture
def five(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Five more lymphoma patients at the practice, in pages of two; the family names of every
    lymphoma patient the practice's coordinator sees."""
    monkeypatch.setattr(ListPagination, "page_size", 2)
    for _ in range(5):
        patient_at(world.practice, world.community_coordinator, disease_area="lbcl")
    return sorted(p["family_name"] for p in every_row(world, FILTERED, exact=True))


def every_row(world: World, url: str, *, exact: bool = False) -> list[dict[str, Any]]:
    client, rows = api(world.community_coordinator), []
    next_url: str | None = url + ("&count=exact" if exact else "")
    while next_url:
        page = client.get(next_url).json()
        rows += page["results"]
        next_url = page["next"]
    return rows


def counted(world: World, url: str) -> tuple[dict[str, Any], list[str]]:
    """The page's answer and its COUNT statements."""
    with CaptureQueriesContext(connection) as queries:
        response = api(world.community_coordinator).get(url)
    assert response.status_code == 200, response.content
    return response.json(), [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]


def test_past_the_cap_the_count_is_null_and_next_still_reaches_every_row(world: World, five: list[str]) -> None:
    total = len(five)
    assert total >= 6  # the world's shared patient and the five
    with override_settings(LIST_COUNT_CAP=3):
        first, counts = counted(world, FILTERED)
        assert (first["count"], first["more_than"]) == (None, 3)
        (count,) = counts
        assert "LIMIT 4" in count  # counted one past the cap, not every row
        assert first["previous"] is None and "page=2" in first["next"]
        second, counts = counted(world, FILTERED + "&page=2")
        assert (second["count"], second["more_than"], counts) == (None, 3, [])  # reaches past the cap: known
        assert sorted(p["family_name"] for p in every_row(world, FILTERED)) == five
        last_number = -(-total // 2)
        last, counts = counted(world, FILTERED + f"&page={last_number}")
        assert (last["count"], last["more_than"], last["next"], counts) == (total, None, None, [])
        exact, counts = counted(world, FILTERED + "&count=exact")
        assert (exact["count"], exact["more_than"]) == (total, None)
        (count,) = counts
        assert "LIMIT" not in count


def test_within_the_cap_the_count_is_exact(world: World, five: list[str]) -> None:
    first, counts = counted(world, FILTERED)
    assert (first["count"], first["more_than"]) == (len(five), None)
    (count,) = counts
    assert "LIMIT 501" in count


def test_a_single_page_knows_its_count_without_counting(world: World) -> None:
    page, counts = counted(world, FILTERED)
    assert (page["count"], page["more_than"], page["next"], counts) == (1, None, None, [])
    assert [p["family_name"] for p in page["results"]] == [world.shared_patient.family_name]


def test_the_unfiltered_patient_list_counts_the_grants_alone(world: World, five: list[str]) -> None:
    with override_settings(LIST_COUNT_CAP=3):
        page, counts = counted(world, "/api/patients/")
        assert (page["count"], page["more_than"]) == (None, 3)
        (count,) = counts
        assert "LIMIT 4" in count and "carecoord_patientgroupobjectpermission" in count
        assert '"carecoord_patient"' not in count
        exact, counts = counted(world, "/api/patients/?count=exact")
    assert (exact["count"], exact["more_than"]) == (len(five), None)
    (count,) = counts
    assert "LIMIT" not in count and '"carecoord_patient"' not in count


def test_the_last_page_by_name(world: World, five: list[str]) -> None:
    page, _counts = counted(world, FILTERED + "&page=last")
    assert page["next"] is None and page["count"] == len(five)
    assert len(page["results"]) == len(five) - 2 * (-(-len(five) // 2) - 1)


@pytest.mark.parametrize("page", ["0", "-1", "two", "99", "220445756670303272960"])
def test_a_page_that_is_not_there_is_a_404_never_a_500(world: World, five: list[str], page: str) -> None:
    response = api(world.community_coordinator).get(FILTERED + f"&page={page}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_the_outsider_counts_nothing_of_the_network(world: World, five: list[str]) -> None:
    response = api(world.outsider).get(FILTERED + "&count=exact")
    assert response.status_code == 200
    names = [p["family_name"] for p in response.json()["results"]]
    assert names == [world.foreign_patient.family_name]  # the outsider's own patient alone
    assert response.json()["count"] == 1 and not set(names) & set(five)
