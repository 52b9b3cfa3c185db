"""What the calendars app contributes to the core's registries: its section of the account page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from calendars.forms import FeedForm
from calendars.models import CalendarFeed
from carecoord.account_sections import AccountSection, register_account_section
from carecoord.models import User
from carecoord.zones import zone_of

# The address of a feed just made, shown once on the account page, then forgotten.
NEW_FEED_SESSION_KEY = "calendars_new_feed_url"


def feeds_section(request: HttpRequest, user: User) -> dict[str, Any]:
    """The person's feeds, the form to make one, and the address of one just made (once)."""
    new_url = request.session.pop(NEW_FEED_SESSION_KEY, None)
    return {
        "form": FeedForm(),
        "new_url": new_url,
        "new_webcal_url": "webcal://" + new_url.split("://", 1)[1] if new_url else None,
        "feeds": list(CalendarFeed.objects.filter(user=user).order_by("revoked_at", "-created_at")),
        "zone": zone_of(user),
    }


def register_calendars_contributions() -> None:
    register_account_section(
        AccountSection(name="calendar-feeds", order=10, template="calendars/_account_feeds.html", context=feeds_section)
    )
