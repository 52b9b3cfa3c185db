"""Typed reading of the environment for settings.

Every value carecoord reads from the environment goes through `Config`, so a bad value stops
the process at start with one line that names the variable, instead of failing later on a
request. Any value may come from a file instead (Docker and Kubernetes secrets):
`SECRET_KEY_FILE=/run/secrets/key` is read when `SECRET_KEY` itself is not set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured


class ConfigurationError(SystemExit):
    """Raised at start for a missing or malformed setting; exits with a one-line message."""

    def __init__(self, message: str) -> None:
        super().__init__(f"carecoord: configuration error: {message}")


class Config:
    """Typed accessors over the process environment, with `*_FILE` support."""

    def __init__(self, environ_map: Mapping[str, str] | None = None) -> None:
        self._environ = environ_map if environ_map is not None else os.environ

    def raw(self, name: str) -> str | None:
        """The variable's value, or the content of the file named by NAME_FILE, or None."""
        if name in self._environ:
            return self._environ[name]
        path = self._environ.get(f"{name}_FILE")
        if path is None:
            return None
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE: cannot read {path!r} ({exc.strerror})") from None

    def text(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None else value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.raw(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigurationError(f"{name}: expected true or false, got {raw!r}")

    def number(self, name: str, default: int, *, minimum: int | None = None) -> int:
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigurationError(f"{name}: expected a whole number, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigurationError(f"{name}: must be at least {minimum}, got {value}")
        return value

    def items(self, name: str, default: list[str]) -> list[str]:
        raw = self.raw(name)
        if raw is None:
            return default
        return [item.strip() for item in raw.split(",") if item.strip()]

    def db_url(self, name: str, default: str) -> dict[str, Any]:
        raw = self.text(name, default)
        if not raw.startswith(("postgres://", "postgresql://", "pgsql://")):
            raise ConfigurationError(f"{name}: expected a postgres:// URL")
        try:
            return dict(environ.Env.db_url_config(raw))
        except (ImproperlyConfigured, ValueError) as exc:
            raise ConfigurationError(f"{name}: {str(exc).splitlines()[0]}") from None

    def redis_url(self, name: str, default: str) -> str:
        raw = self.text(name, default)
        if not raw.startswith(("redis://", "rediss://")):
            raise ConfigurationError(f"{name}: expected a redis:// URL, got {raw!r}")
        return raw


def sentinel_addresses(sentinels: list[str]) -> list[tuple[str, int]]:
    """("host", port) pairs of `REDIS_SENTINELS`' `host:port` items (port 26379 if left out)."""
    pairs = []
    for item in sentinels:
        host, separator, port = item.strip().rpartition(":")
        pairs.append((host, int(port)) if separator else (port, 26379))
    return pairs


def sentinel_broker_url(sentinels: list[str], redis_url: str) -> str:
    """Celery's broker URL under Sentinel: one `sentinel://` address per Sentinel, `;`-separated,
    with the primary's password and database from `redis_url` (whose host is not used); the
    name of the primary goes in the broker's transport options."""
    parts = urlsplit(redis_url)
    password = f":{parts.password}@" if parts.password else ""
    database = parts.path or "/0"
    return ";".join(f"sentinel://{password}{host}:{port}{database}" for host, port in sentinel_addresses(sentinels))
