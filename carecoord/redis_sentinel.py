"""Redis found through Sentinel: the broker, the cache and `/health/` ask the Sentinels which
server is the primary, and ask again after a fail-over (docs/operators/scaling.md).

Configured by `REDIS_SENTINELS` (the Sentinels' host:port, comma-separated) and
`REDIS_SENTINEL_MASTER` (the name they watch the primary under); `REDIS_URL` then gives only
the password and the database number, its host being whatever the Sentinels say. Without
`REDIS_SENTINELS`, `REDIS_URL` is the one server, as on a single machine.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.sentinel import Sentinel

from carecoord.config import sentinel_addresses


def _primary(**connection: Any) -> redis.Redis:
    parts = urlsplit(settings.REDIS_URL)
    sentinel = Sentinel(
        sentinel_addresses(settings.REDIS_SENTINELS),
        socket_timeout=connection.get("socket_timeout", 0.5),
        socket_connect_timeout=connection.get("socket_connect_timeout", 0.5),
    )
    return sentinel.master_for(
        settings.REDIS_SENTINEL_MASTER,
        db=int((parts.path or "/0").lstrip("/") or 0),
        password=parts.password,
        **connection,
    )


def redis_client(**connection: Any) -> redis.Redis:
    """A client of the primary: through the Sentinels when there are any, else `REDIS_URL`."""
    if settings.REDIS_SENTINELS:
        return _primary(**connection)
    return redis.Redis.from_url(settings.REDIS_URL, **connection)


class _SentinelCacheClient(RedisCacheClient):
    """Django's Redis cache client on the primary the Sentinels name: a pool that asks them
    again when its server stops answering or stops being the primary."""

    _primary_pool: Any = None

    def _get_connection_pool(self, write: bool) -> Any:
        if self._primary_pool is None:
            self._primary_pool = _primary(socket_timeout=0.5, socket_connect_timeout=0.5).connection_pool
        return self._primary_pool


class SentinelRedisCache(RedisCache):
    """`CACHES["default"]["BACKEND"]` under Sentinel; `LOCATION` is not read."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SentinelCacheClient
