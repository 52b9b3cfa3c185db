"""Redis made available by Sentinel (docs/operators/scaling.md): the broker, the cache and
`/health/` find the primary through a real Sentinel, and find the new one after a fail-over;
same-day alerts go out before and after it. A primary, a replica and a Sentinel run as
private redis-server processes."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from django.test import Client, override_settings

from carecoord.config import sentinel_addresses, sentinel_broker_url
from carecoord.models import OutgoingEmail
from tests.broker import MASTER, broker_at, redis_with_sentinel
from tests.helpers import World, grade_2_event, wait_for
from tests.smtp import smtp_catcher
from tests.worker import FAST_SWEEP, running_worker, sweep_until

# REDIS_URL under Sentinel gives the password and database only: its host answers nothing.
UNUSED_HOST_URL = "redis://127.0.0.1:9/3"


def sentinel_settings(sentinels: str) -> override_settings:
    return override_settings(
        REDIS_SENTINELS=[sentinels],
        REDIS_SENTINEL_MASTER=MASTER,
        REDIS_URL=UNUSED_HOST_URL,
        CACHES={"default": {"BACKEND": "carecoord.redis_sentinel.SentinelRedisCache", "LOCATION": ""}},
    )


def test_sentinel_addresses_and_the_broker_url() -> None:
    assert sentinel_addresses(["10.0.0.11:26380", " 10.0.0.12 "]) == [("10.0.0.11", 26380), ("10.0.0.12", 26379)]
    assert (
        sentinel_broker_url(["10.0.0.11:26379", "10.0.0.12:26379"], "redis://:s3cret@ignored:6379/2")
        == "sentinel://:s3cret@10.0.0.11:26379/2;sentinel://:s3cret@10.0.0.12:26379/2"
    )


@pytest.mark.worker
def test_the_cache_and_health_reach_the_primary_the_sentinel_names_before_and_after_a_fail_over(
    db: None, tmp_path: Path
) -> None:
    with redis_with_sentinel(tmp_path) as servers, sentinel_settings(servers.sentinels):
        cache.set("before", "kept")
        with redis.Redis(port=servers.primary.port, db=3) as primary:
            assert primary.exists(":1:before")  # on the primary, in REDIS_URL's database
        health = Client().get("/health/").json()
        assert health["checks"]["redis"] == {"ok": True}

        servers.fail_over()
        # The first call after the fail-over may still reach the old primary and fail; the
        # pool asks the Sentinel again.
        wait_for(lambda: _sets(cache, "after"), timeout=30, describe=lambda: "the cache never found the new primary")
        with redis.Redis(port=servers.replica.port, db=3) as promoted:
            assert promoted.exists(":1:after")
        assert Client().get("/health/").json()["checks"]["redis"] == {"ok": True}


def _sets(cache_: object, key: str) -> bool:
    try:
        cache.set(key, "kept")
    except redis.RedisError:
        return False
    return True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_alerts_go_out_through_the_sentinels_primary_before_and_after_a_fail_over(world: World, tmp_path: Path) -> None:
    with redis_with_sentinel(tmp_path) as servers, smtp_catcher() as catcher:
        url = sentinel_broker_url([servers.sentinels], "redis://127.0.0.1:9/0")
        env = {**catcher.env, **FAST_SWEEP, "REDIS_SENTINELS": servers.sentinels, "REDIS_SENTINEL_MASTER": MASTER}
        env["REDIS_URL"] = "redis://127.0.0.1:9/0"
        with broker_at(url, master_name=MASTER), running_worker(tmp_path / "worker.log", extra_env=env):
            grade_2_event(world)
            wait_for(lambda: len(catcher.messages) >= 3, timeout=90, describe=lambda: _log(tmp_path))
            servers.fail_over()
            grade_2_event(world)
            # Emails whose queuing failed while the sentinels had no primary yet ("No master
            # found") wait for the sweeper, run here as beat would: none is lost.
            sweep_until(lambda: len(catcher.messages) >= 6, timeout=120, describe=lambda: _log(tmp_path))
    assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count() == 6


def _log(tmp_path: Path) -> str:
    return (tmp_path / "worker.log").read_text()[-3000:]
