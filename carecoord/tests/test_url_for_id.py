"""A route reversed once gives, for every id, the URL `reverse` gives."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from carecoord.web.url_for_id import UrlForId


@pytest.mark.parametrize("name", ["milestone-move-form", "milestone-complete", "referral-detail"])
def test_each_id_gets_the_url_reverse_gives(name: str) -> None:
    argument = "referral_id" if name.startswith("referral") else "milestone_id"
    url_of = UrlForId(name, argument)
    for pk in (1, 7, 10, 2_147_483_646, 123456789):
        assert url_of(pk) == reverse(name, kwargs={argument: pk})


def test_a_route_without_the_argument_is_refused() -> None:
    with pytest.raises(NoReverseMatch):
        UrlForId("dashboard", "milestone_id")
