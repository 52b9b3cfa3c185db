"""Typed reading of the environment for settings.

Every value carecoord reads from the environment goes through `Config`, so a bad value stops
the process at start with one line that names the variable, instead of failing later on a
request. Secrets may come from a file: `SECRET_KEY_FILE=/run/secrets/key` is read when
`SECRET_KEY` itself is not set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class ConfigurationError(SystemExit):
    """Raised at start for a missing or malformed setting; exits with a one-line message."""

    def __init__(self, message: str) -> None:
        super().__init__(f"carecoord: configuration error: {message}")


class Config:
    """Typed accessors over the process environment, with `*_FILE` support for secrets."""

    def __init__(self, environ_map: dict[str, str] | None = None) -> None:
        self._env = environ.FileAwareEnv()
        if environ_map is not None:
            self._env.ENVIRON = environ_map
        else:
            self._env.ENVIRON = os.environ

    def _read(self, name: str, parse: Callable[[], T]) -> T:
        try:
            return parse()
        except (ImproperlyConfigured, ValueError, TypeError, KeyError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigurationError(f"{name}: {detail}") from None

    def is_set(self, name: str) -> bool:
        return name in self._env.ENVIRON or f"{name}_FILE" in self._env.ENVIRON

    def text(self, name: str, default: str | None = None) -> str:
        if default is None:
            return self._read(name, lambda: self._env.str(name))
        return self._read(name, lambda: self._env.str(name, default=default))

    def flag(self, name: str, default: bool) -> bool:
        raw = self._env.ENVIRON.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigurationError(f"{name}: expected true or false, got {raw!r}")

    def number(self, name: str, default: int, *, minimum: int | None = None) -> int:
        raw = self._env.ENVIRON.get(name)
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
        raw = self._env.ENVIRON.get(name)
        if raw is None:
            return default
        return [item.strip() for item in raw.split(",") if item.strip()]

    def db_url(self, name: str, default: str) -> dict[str, Any]:
        raw = self._env.ENVIRON.get(name, default)
        if not raw.startswith(("postgres://", "postgresql://", "pgsql://")):
            raise ConfigurationError(f"{name}: expected a postgres:// URL")
        return self._read(name, lambda: dict(environ.Env.db_url_config(raw)))

    def redis_url(self, name: str, default: str) -> str:
        raw = self._env.ENVIRON.get(name, default)
        if not raw.startswith(("redis://", "rediss://")):
            raise ConfigurationError(f"{name}: expected a redis:// URL, got {raw!r}")
        return raw
