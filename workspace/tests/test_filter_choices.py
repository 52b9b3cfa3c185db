"""The list filters' choices (care-team sites, point persons, referral sites): read only when the
page needs them, kept per viewer, and read again after whatever could change them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from carecoord.models import CareTeamLink, Site
from carecoord.services.care_teams import care_team_add_site
from carecoord.web.choice_cache import cached_choices, choices_changed
from tests.factories import SiteFactory
from tests.helpers import World, accepted_referral

DASHBOARD = reverse("dashboard")
UNREACHABLE_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
}


def site_options(client: Client) -> str:
    """The site filter's select on the dashboard."""
    html = client.get(DASHBOARD).content.decode()
    return html.split('name="site"', 1)[1].split("</select>", 1)[0]


def test_choices_are_read_once_then_kept_until_something_changes(db: None) -> None:
    reads: list[int] = []

    def read() -> list[tuple[int, str]]:
        reads.append(1)
        return [(1, "North Clinic")]

    assert cached_choices("test", 7, read) == [(1, "North Clinic")]
    assert cached_choices("test", 7, read) == [(1, "North Clinic")]
    assert len(reads) == 1
    assert cached_choices("test", 8, read) == [(1, "North Clinic")]  # another viewer: their own
    assert len(reads) == 2
    choices_changed()
    cached_choices("test", 7, read)
    assert len(reads) == 3


def test_a_reader_between_the_save_and_the_commit_keeps_nothing_stale(
    db: None, django_capture_on_commit_callbacks: object
) -> None:
    """A page served while the change's transaction is still open reads the choices without it;
    the commit forgets them again."""
    reads: list[int] = []

    def read() -> list[tuple[int, str]]:
        reads.append(1)
        return []

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        choices_changed()
        cached_choices("test", 7, read)  # another request, before the commit
    cached_choices("test", 7, read)
    assert len(reads) == 2


def test_a_site_joining_a_care_team_is_in_the_filter_at_the_next_page(
    community_coordinator_client: Client, world: World
) -> None:
    assert world.center.name in site_options(community_coordinator_client)
    hospice = SiteFactory.create(name="Lakeside Hospice", kind=Site.Kind.COMMUNITY_PRACTICE)
    assert "Lakeside Hospice" not in site_options(community_coordinator_client)
    care_team_add_site(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=hospice,
        capacity=CareTeamLink.Capacity.COMMUNITY_PRACTICE,
    )
    assert "Lakeside Hospice" in site_options(community_coordinator_client)


def test_an_htmx_page_of_results_reads_no_choices(community_coordinator_client: Client, world: World) -> None:
    key = f"choices:patient-sites:{world.community_coordinator.pk}"
    cache.delete(key)
    response = community_coordinator_client.get(DASHBOARD, {"page": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Sharedcare" in response.content.decode()
    assert cache.get(key) is None
    community_coordinator_client.get(DASHBOARD)
    assert cache.get(key) is not None


@pytest.mark.parametrize("path", [DASHBOARD, reverse("referral-list")])
def test_without_the_cache_the_choices_are_read_from_the_database(
    community_coordinator_client: Client, world: World, path: str
) -> None:
    accepted_referral(world, world.shared_patient)  # the referral list's sites are its referrals'
    with override_settings(CACHES=UNREACHABLE_CACHE):
        response = community_coordinator_client.get(path)
    assert response.status_code == 200
    assert world.center.name in response.content.decode().split('name="site"', 1)[1].split("</select>", 1)[0]
