"""The processes a load run starts: gunicorn instances and Celery worker pools, as deployed.

Each runs with the production settings module (`config.settings`, DEBUG off, a throwaway
SECRET_KEY, static files collected and served by WhiteNoise), as the Dockerfile and
`DEBUG=0 bin/run` run them, on 127.0.0.1 over plain HTTP (SECURE_SSL_REDIRECT off).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
# When, method, path, status and the time gunicorn spent on the request (microseconds).
ACCESS_LOG_FORMAT = "%(t)s|%(m)s|%(U)s|%(s)s|%(D)s"
BIN = Path(sys.executable).parent


def production_env(*, database_url: str, redis_url: str, queue: str, extra: dict[str, str]) -> dict[str, str]:
    """The environment of every process of the run: production settings on 127.0.0.1."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "load-run-" + secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "CELERY_ALERT_QUEUE": f"{queue}-alerts",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def collect_static(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Web:
    url: str
    process: subprocess.Popen[bytes]


@dataclass(frozen=True)
class Layout:
    """How many web instances and worker pools, and each instance's gunicorn workers."""

    instances: int = 1
    workers: int = 4
    threads: int = 1  # above 1: gunicorn's gthread worker class

    def gunicorn_args(self, port: int, access_log: Path) -> list[str]:
        args = [str(BIN / "gunicorn"), "config.wsgi", "--preload", "--bind", f"127.0.0.1:{port}"]
        args += ["--workers", str(self.workers)]
        if self.threads > 1:
            args += ["--worker-class", "gthread", "--threads", str(self.threads)]
        return [*args, "--access-logfile", str(access_log), "--access-logformat", ACCESS_LOG_FORMAT]

    def describe(self) -> str:
        per = f"{self.workers} sync workers"
        if self.threads > 1:
            per = f"{self.workers} gthread workers x {self.threads} threads"
        return f"{self.instances} x gunicorn ({per}), {self.instances} Celery pool{'s' if self.instances > 1 else ''}"


@contextmanager
def started(layout: Layout, env: dict[str, str], logs: Path) -> Iterator[tuple[list[Web], list[int]]]:
    """Web instances (waited for until they answer) and worker pools; stopped on leaving."""
    with ExitStack() as stack:
        pools = []
        for n in range(layout.instances):
            pools.append(stack.enter_context(_process(_worker_args(env, n), env, logs / f"worker-{n}.log")).pid)
        webs = []
        for n in range(layout.instances):
            port = free_port()
            args = layout.gunicorn_args(port, logs / f"access-{n}.log")
            process = stack.enter_context(_process(args, env, logs / f"web-{n}.log"))
            webs.append(Web(f"http://127.0.0.1:{port}", process))
        for web in webs:
            _wait_until_answering(web)
        yield webs, pools


def _worker_args(env: dict[str, str], n: int) -> list[str]:
    """One pool: a worker taking both queues (the writes' alert emails and everything else)."""
    queues = f"{env['CELERY_QUEUE']},{env['CELERY_ALERT_QUEUE']}"
    return [
        str(BIN / "celery"),
        "-A",
        "config",
        "worker",
        "--loglevel=WARNING",
        "--concurrency=2",
        f"--queues={queues}",
        f"--hostname=load-{n}@%h",
        "--without-gossip",
        "--without-mingle",
    ]


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one process we started, by its id, warmly then firmly."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(web: Web, patience: float = 180.0) -> None:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if web.process.poll() is not None:
            raise SystemExit(f"gunicorn at {web.url} stopped at start (exit {web.process.returncode}): see its log")
        try:
            with urllib.request.urlopen(f"{web.url}/login/", timeout=5) as answer:  # noqa: S310 - our own server
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn at {web.url} did not answer within {patience:.0f} s")


def show_tail(log: Path, out: IO[str], lines: int = 30) -> None:
    if log.exists():
        print(f"--- last lines of {log.name} ---", file=out)
        print("\n".join(log.read_text(errors="replace").splitlines()[-lines:]), file=out)
