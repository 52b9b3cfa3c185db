"""A ceiling on wrong feed keys from one address, so that keys cannot be guessed at speed.

A key has 240 random bits, so guessing one is hopeless anyway; the ceiling keeps a scanner from
costing a database lookup per guess. Each wrong key is counted per client address for an hour
(in the cache, Redis); an address over `WRONG_KEYS_PER_HOUR` is refused every feed (429), even
one with a right key, so that a refusal never tells a guess apart from a key.
"""

from __future__ import annotations

from django.core.cache import cache

WRONG_KEYS_PER_HOUR = 60
WINDOW_SECONDS = 3600


def _counter(address: str | None) -> str:
    return f"calendars:wrong-feed-keys:{address or 'unknown'}"


def refused(address: str | None) -> bool:
    """Whether `address` has tried too many wrong keys within the hour."""
    return int(cache.get(_counter(address)) or 0) >= WRONG_KEYS_PER_HOUR


def note_wrong_key(address: str | None) -> None:
    """Count a wrong key from `address`; the count lapses an hour after the first."""
    counter = _counter(address)
    cache.add(counter, 0, timeout=WINDOW_SECONDS)
    try:
        cache.incr(counter)
    except ValueError:  # lapsed between the two calls
        cache.set(counter, 1, timeout=WINDOW_SECONDS)


def forget_wrong_keys(address: str | None) -> None:
    cache.delete(_counter(address))
