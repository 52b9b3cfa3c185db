"""A private Redis server that a test may stop and start, and pointing Celery at it.

Fault tests stop the broker; they use their own redis-server on a free port so that nothing
else on the machine loses its Redis.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import redis

from config.celery import app as celery_app
from tests.helpers import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    def __init__(self, workdir: Path, *extra: str, config_file: Path | None = None) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.extra = list(extra)  # more redis-server options (a replica's, a Sentinel's)
        self.config_file = config_file  # a Sentinel's: it writes what it learns there
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for the broker fault tests"
        self.process = subprocess.Popen(
            [
                binary,
                *([str(self.config_file)] if self.config_file else []),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, describe=lambda: "private redis-server did not start", interval=0.05)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def broker_at(url: str, **transport_options: Any) -> Iterator[None]:
    """Send this process's tasks to `url` (the pools are rebuilt, as after a fork), with more
    `transport_options` (a Sentinel's `master_name`)."""
    app = cast(Any, celery_app)  # the stubs know neither the writable setting nor _after_fork
    previous = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = url
    app.conf.broker_transport_options = {**previous[1], **transport_options}
    app._after_fork()  # Celery's own way to drop pooled connections
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = previous
        app._after_fork()


MASTER = "carecoord"


class RedisWithSentinel:
    """A primary, its replica and one Sentinel watching them (quorum 1), each a private
    redis-server on a free port: Redis as a network runs it (docs/operators/scaling.md), small."""

    def __init__(self, workdir: Path) -> None:
        self.primary = PrivateRedis(workdir / "primary")
        self.replica = PrivateRedis(workdir / "replica")
        self.replica.extra = ["--replicaof", "127.0.0.1", str(self.primary.port)]
        self.sentinel_conf = workdir / "sentinel.conf"
        self.sentinel = PrivateRedis(workdir / "sentinel", "--sentinel", config_file=self.sentinel_conf)

    @property
    def sentinels(self) -> str:
        """`REDIS_SENTINELS`."""
        return f"127.0.0.1:{self.sentinel.port}"

    def start(self) -> None:
        for server in (self.primary, self.replica, self.sentinel):
            server.workdir.mkdir(parents=True, exist_ok=True)
        self.sentinel_conf.write_text(
            f"sentinel monitor {MASTER} 127.0.0.1 {self.primary.port} 1\n"
            f"sentinel down-after-milliseconds {MASTER} 1000\n"
            f"sentinel failover-timeout {MASTER} 5000\n"
        )
        self.primary.start()
        self.replica.start()
        self.sentinel.start()
        wait_for(self._replica_known, timeout=30, describe=lambda: "the Sentinel never saw the replica", interval=0.2)

    def _ask(self, *command: str) -> Any:
        with redis.Redis(port=self.sentinel.port, socket_timeout=1) as client:
            return client.execute_command(*command)

    def _replica_known(self) -> bool:
        return bool(self._ask("SENTINEL", "REPLICAS", MASTER))

    def primary_port(self) -> int:
        return int(self._ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)[1])

    def fail_over(self) -> None:
        """Stop the primary and wait until the Sentinel has made the replica the primary."""
        self.primary.stop()
        wait_for(
            lambda: self.primary_port() == self.replica.port,
            timeout=60,
            describe=lambda: f"no fail-over: the Sentinel still names {self.primary_port()}",
            interval=0.2,
        )

    def stop(self) -> None:
        for server in (self.sentinel, self.replica, self.primary):
            server.stop()


@contextmanager
def redis_with_sentinel(workdir: Path) -> Iterator[RedisWithSentinel]:
    servers = RedisWithSentinel(workdir)
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()
