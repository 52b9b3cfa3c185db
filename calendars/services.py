"""Making, revoking and finding a person's calendar feeds (the key is shown once, only its hash
is kept, as for API tokens: `carecoord.models.api_tokens`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from calendars.models import FEED_KEY_PREFIX, CalendarFeed
from carecoord.models import User
from carecoord.models.api_tokens import hash_token_key

MAX_FEEDS_PER_PERSON = 10


def feed_create(*, user: User, name: str) -> tuple[CalendarFeed, str]:
    """A new feed for `user`; returns it and its key, which is never shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the feed a name that says where you subscribe to it."})
    if CalendarFeed.objects.filter(user=user).usable().count() >= MAX_FEEDS_PER_PERSON:
        raise ValidationError({"name": f"You already have {MAX_FEEDS_PER_PERSON} calendar feeds; revoke one first."})
    feed = CalendarFeed(user=user, name=name)
    key = feed.new_key(FEED_KEY_PREFIX)
    feed.save()
    return feed, key


def feed_revoke(*, feed: CalendarFeed) -> CalendarFeed:
    """Stop the feed answering at once (404); the row stays as a record."""
    feed.revoke()
    return feed


def usable_feed(key: str) -> CalendarFeed | None:
    """The usable feed whose key is `key`, with its person, or None.

    The key is compared only as its SHA-256 hash, looked up in a unique index: how long the
    lookup takes says nothing about how much of a guessed key was right.
    """
    return CalendarFeed.objects.usable().select_related("user").filter(key_hash=hash_token_key(key)).first()


def feed_read(*, feed: CalendarFeed) -> None:
    """Note when the feed was last read (shown on the account page), in one UPDATE."""
    CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=timezone.now())
