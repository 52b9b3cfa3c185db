"""A list filter's choices that change rarely (the sites on a viewer's care teams, the point persons
named at their sites, the sites their referrals go between), kept a few minutes per viewer.

Reading them costs 10 to 20 ms on a network of thousands of patients, on every list page, for
lists that change a few times a week. Whatever changes them (a care-team link, a point person, a
membership, a new referral) moves one generation on, when it is saved and again when its
transaction commits, and a choice kept under an older generation is read again: a new site is in
the filter from the next page on. A renamed person is the one change that waits for `CHOICES_SECONDS`.

The choices hold names of sites and of staff, never anything about a patient. Without the cache
(Redis down) the choices are read from the database as before.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHOICES_SECONDS = 300
GENERATION_KEY = "choices:generation"

Choices = list[tuple[Any, str]]


def forget_all_choices() -> None:
    """Every viewer's kept choices are read again at their next page."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there yet (or evicted): any new value differs from what was kept
        cache.set(GENERATION_KEY, time.time_ns(), None)
    except RedisError:
        log.warning("filter choices: the cache is unreachable; choices kept elsewhere expire on their own")


def choices_changed(**_signal: object) -> None:
    """Signal receiver (and plain call): the choices of every viewer may have changed. Forgotten
    now, for the requests of this transaction, and again once it commits: a reader in between
    read the choices without the change and must not keep them."""
    forget_all_choices()
    transaction.on_commit(forget_all_choices)


def cached_choices(name: str, user_id: int | None, read: Callable[[], Iterable[tuple[Any, str]]]) -> Choices:
    """`read()`'s choices for the viewer `user_id`, from the cache when still of the current
    generation: one round trip to Redis when kept, one more to keep them when read."""
    key = f"choices:{name}:{user_id}"
    try:
        found = cache.get_many([GENERATION_KEY, key])
    except RedisError:
        return list(read())
    generation = found.get(GENERATION_KEY, 0)
    kept = found.get(key)
    if kept is not None and kept[0] == generation:
        return list(kept[1])
    choices = list(read())
    with contextlib.suppress(RedisError):
        cache.set(key, (generation, choices), CHOICES_SECONDS)
    return choices
