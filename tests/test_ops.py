"""Operations: the compose file is valid, and a bad configuration stops the process at start
with one line that names the variable (carecoord/config.py)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "ops-test-" + "q" * 60

# Loads the settings the way every process does (web, worker, manage.py).
LOAD_SETTINGS = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"


def compose_command() -> list[str] | None:
    """`docker compose` (v2 plugin) when present, else the standalone `docker-compose`."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def start_django(**env: str) -> subprocess.CompletedProcess[str]:
    """Start Django in a clean environment: only PATH, the settings module and `env`."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", LOAD_SETTINGS], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def assert_fails_naming(result: subprocess.CompletedProcess[str], name: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_compose_file_is_valid() -> None:
    command = compose_command()
    assert command is not None, "install Docker Compose (bin/test installs Debian's docker-compose)"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(ROOT))}
    result = subprocess.run(
        [*command, "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_compose_file_runs_every_service_with_health_checks() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"web", "worker", "beat", "db", "redis", "mailpit"}
    assert "migrate" in services["web"]["command"] and "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    for name in ("db", "redis"):
        assert "healthcheck" in services[name]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
        for variable in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
            assert variable in services[name]["environment"]


def test_dockerfile_builds_from_python_313_slim() -> None:
    assert "FROM python:3.13-slim" in (ROOT / "Dockerfile").read_text()


def test_missing_secret_key_with_debug_off_stops_the_start() -> None:
    assert_fails_naming(start_django(DEBUG="0"), "SECRET_KEY")


def test_short_secret_key_with_debug_off_stops_the_start() -> None:
    assert_fails_naming(start_django(DEBUG="0", SECRET_KEY="too-short"), "SECRET_KEY")


def test_unreadable_debug_value_names_debug() -> None:
    assert_fails_naming(start_django(DEBUG="maybe", SECRET_KEY=GOOD_KEY), "DEBUG")


def test_non_postgres_database_url_names_database_url() -> None:
    result = start_django(DEBUG="1", DATABASE_URL="mysql://user:pw@127.0.0.1:3306/carecoord")
    assert_fails_naming(result, "DATABASE_URL")


def test_non_redis_redis_url_names_redis_url() -> None:
    assert_fails_naming(start_django(DEBUG="1", REDIS_URL="http://127.0.0.1:6379"), "REDIS_URL")


def test_bad_number_names_the_variable() -> None:
    assert_fails_naming(start_django(DEBUG="1", EMAIL_PORT="twenty-five"), "EMAIL_PORT")


@pytest.mark.parametrize(("value", "disabled"), [(None, "False"), ("1", "True"), ("off", "False")])
def test_transaction_pooling_turns_server_side_cursors_off(value: str | None, disabled: str) -> None:
    """Behind PgBouncer in transaction pooling (docs/operators/scaling.md)."""
    show = "import django; django.setup(); from django.db import connection; "
    show += "print(connection.settings_dict['DISABLE_SERVER_SIDE_CURSORS'])"
    env = {"DEBUG": "1"} | ({"DATABASE_TRANSACTION_POOLING": value} if value is not None else {})
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    result = subprocess.run(
        [sys.executable, "-c", show], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == disabled


def test_the_wsgi_application_loads_the_views_and_main_templates_before_the_first_request() -> None:
    """config/wsgi.py warms a web process up: what its first request used to load."""
    show = (
        "import sys, config.wsgi; from django.template import engines; "
        "from carecoord.web.warm_up import MAIN_TEMPLATES; "
        "cached = engines['django'].engine.template_loaders[0].get_template_cache; "
        "print(sorted(set(MAIN_TEMPLATES) - set(cached)) or 'templates'); "
        "views = ('workspace.views', 'referrals.views', 'toxicity.alert_views', 'handoffs.views', 'audit.views'); "
        "print([v for v in views if v not in sys.modules] or 'views')"
    )
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": GOOD_KEY}
    result = subprocess.run(
        [sys.executable, "-c", show], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["templates", "views"]


def test_secret_key_is_read_from_secret_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text(GOOD_KEY)
    result = start_django(DEBUG="0", SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOOD_KEY


def test_development_defaults_start_without_any_variable_but_debug() -> None:
    result = start_django(DEBUG="1")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", ["bin/run", "bin/test", ".ci/run"])
def test_scripts_are_executable_bash_with_valid_syntax(script: str) -> None:
    path = ROOT / script
    assert os.access(path, os.X_OK)
    assert path.read_text().startswith("#!/usr/bin/env bash")
    subprocess.run(["bash", "-n", str(path)], check=True)


# --- bin/audit-deps: what a pip-audit report means for CI ------------------------------------


def _pip_audit_verdict() -> Any:
    spec = importlib.util.spec_from_file_location("pip_audit_verdict", ROOT / "bin" / "pip_audit_verdict.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.verdict


def test_dependency_audit_fails_on_a_known_vulnerability() -> None:
    verdict = _pip_audit_verdict()
    report = {
        "dependencies": [
            {"name": "django", "version": "6.1.3", "vulns": []},
            {"name": "jinja2", "version": "2.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["2.11.3"]}]},
        ]
    }
    code, lines = verdict(report, strict=False)
    assert code == 1
    assert lines == ["VULNERABLE jinja2 2.0: PYSEC-1 (fixed in 2.11.3)"]


def test_dependency_audit_passes_a_clean_report_and_flags_an_unreachable_database() -> None:
    verdict = _pip_audit_verdict()
    clean = {"dependencies": [{"name": "django", "version": "6.1.3", "vulns": []}]}
    assert verdict(clean, strict=True)[0] == 0
    unreachable = {"dependencies": [{"name": "django", "version": "6.1.3", "skip_reason": "not found on PyPI"}]}
    code, lines = verdict(unreachable, strict=False)
    assert code == 0 and "none of 1 packages was audited" in lines[0]
    assert verdict(unreachable, strict=True)[0] == 1
    assert verdict(None, strict=False)[0] == 1
