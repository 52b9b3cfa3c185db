from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from carecoord.models.api_tokens import HashedKey

# "cal_" + 40 URL-safe characters: told apart from an API token ("cc_") in a leaked log.
FEED_KEY_PREFIX = "cal_"


class CalendarFeedQuerySet(models.QuerySet["CalendarFeed"]):
    def usable(self) -> CalendarFeedQuerySet:
        """Feeds that answer: not revoked, of a person whose account is active."""
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class CalendarFeed(HashedKey):
    """A private address at which a calendar app reads one person's feed, without signing in.

    The key in the address is the only credential, so it is kept as API token keys are
    (`HashedKey`): only its hash is stored, and the address is shown once, when it is made. What the feed
    shows is decided afresh at every read from the person's access then (`calendars.selectors`),
    never from what they could see when the feed was made. Revoked feeds stay as a record.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    name = models.CharField(max_length=100, help_text="Where it is subscribed, e.g. 'Phone'.")
    last_read_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects: ClassVar[CalendarFeedQuerySet] = CalendarFeedQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_hint}…)"
