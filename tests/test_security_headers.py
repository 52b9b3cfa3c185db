"""Transport and browser hardening: what every response carries, and the deployment check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.helpers import World, login
from tests.route_rules import build_samples

ROOT = Path(__file__).resolve().parent.parent


def patient_pages(world: World) -> list[str]:
    patient = world.shared_patient.pk
    return [
        reverse("dashboard"),
        reverse("patient-detail", args=[patient]),
        reverse("patient-timeline", args=[patient]),
        reverse("referral-list"),
        reverse("alert-list"),
        reverse("my-digest"),
        reverse("account-security"),
    ]


def test_pages_with_patient_data_are_never_stored(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    for url in patient_pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= cache_control, url


def test_downloads_are_never_stored(client: Client, world: World, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    samples = build_samples(world)
    login(client, world.center_coordinator)
    for url in [
        reverse("referral-document", args=[samples["document_id"]]),
        f"/api/documents/{samples['document_id']}/download/",
        reverse("handoff-pdf", args=[samples["handoff_id"]]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_api_responses_are_never_stored(world: World) -> None:
    client = login(APIClient(), world.center_coordinator)
    for url in ["/api/patients/", f"/api/patients/{world.shared_patient.pk}/", "/api/referrals/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    # Errors too: a 404 body names nothing, but a proxy must not keep it either.
    assert "no-store" in client.get("/api/patients/00000000-0000-0000-0000-000000000000/")["Cache-Control"]


def test_every_page_has_a_strict_content_security_policy(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    for url in [*patient_pages(world), reverse("login"), reverse("api:docs")]:
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'", url
        assert directives["script-src"] == "'self'", url
        assert directives["style-src"] == "'self'", url
        assert directives["frame-ancestors"] == "'none'", url
        assert directives["object-src"] == "'none'", url


def test_no_template_carries_inline_script_style_or_handlers() -> None:
    """The policy forbids inline code; a template that needs it would break in browsers."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        if "emails" in template.parts:  # mail clients need inline styles; no CSP applies there
            continue
        text = template.read_text()
        for needle in ("<script>", "<style", 'style="', "onclick=", "onload=", "onsubmit=", "onchange=", "javascript:"):
            if needle in text:
                offenders.append(f"{template.relative_to(ROOT)}: {needle}")
    assert offenders == []


def test_referrer_policy_framing_and_sniffing_headers(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    response = client.get(reverse("dashboard"))
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_https_responses_carry_hsts(client: Client, world: World) -> None:
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_session_and_csrf_cookies_are_httponly(client: Client, world: World) -> None:
    client.get(reverse("login"))
    from tests.factories import PASSWORD

    response = client.post(reverse("login"), {"username": world.center_coordinator.email, "password": PASSWORD})
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    assert client.cookies[settings.CSRF_COOKIE_NAME]["httponly"]


def production_environment(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "deploy-check-" + "x" * 64,
            "ALLOWED_HOSTS": "carecoord.example.org",
            "SITE_URL": "https://carecoord.example.org",
        }
    )
    env.update(overrides)
    return env


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_deployment_check_reports_nothing_with_debug_off() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_deployment_check_notices_a_weakened_setting() -> None:
    """The check above can fail: switching HSTS off is reported."""
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_environment(SECURE_HSTS_SECONDS="0")
    )
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


@pytest.mark.parametrize("url", ["/static/css/carecoord.css", "/static/favicon.svg"])
def test_static_files_stay_cacheable(client: Client, db: None, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_every_page_names_the_icon_it_is_served_with(client: Client, world: World) -> None:
    """Named, the icon is fetched from the static files: unnamed, every page load asked for
    /favicon.ico and logged a 404."""
    for url in (reverse("login"), reverse("dashboard")):
        if url == reverse("dashboard"):
            login(client, world.center_coordinator)
        page = client.get(url).content.decode()
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page, url
    assert client.get("/static/favicon.svg").status_code == 200
