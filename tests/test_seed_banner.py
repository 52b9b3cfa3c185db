"""The seed banner's command lines work as pasted in a fresh shell.

In a file of its own: the test commits rows (the command runs in another process), which the
module-wide seeded transaction of tests/test_seed_demo.py would hide.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from django.conf import settings
from django.test import override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord import demo
from carecoord.roles import Role
from tests.factories import UserFactory
from workspace.management.commands.seed_demo import banner


# serialized_rollback: the flush after a transactional test would otherwise make the content types
# again under new ids, which the next serialized test cannot restore over.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_printed_demo_code_command_works_in_a_fresh_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """The banner's line, run by a shell that has nothing of this process's environment but
    PATH and HOME, prints the account's current code (from the database the banner names)."""
    database = settings.DATABASES["default"]
    monkeypatch.setenv(
        "DATABASE_URL",
        f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
    )
    email = "coordinator@banner-check.test"
    user = UserFactory.create(email=email)
    device = TOTPDevice.objects.create(
        user=user, name=demo.DEMO_DEVICE_NAME, key=demo.DEMO_TOTP_KEY_HEX, confirmed=True
    )
    with override_settings(DEBUG=True):
        lines = banner([(email, Role.COORDINATOR.label, "Banner Check Oncology")])
    command = next(line.strip() for line in lines if "demo_code" in line)
    assert command.endswith(f"manage.py demo_code {email}")

    done = subprocess.run(
        ["bash", "-c", command],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    codes = {f"{generator.token():06d}"}
    generator.time -= device.step  # the code may have turned over while the command ran
    codes.add(f"{generator.token():06d}")
    assert done.stdout.strip() in codes


def test_a_database_password_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://carecoord:s3cret@db.example.org:5432/carecoord")
    with override_settings(DEBUG=True):
        lines = banner([("coordinator@x.test", Role.COORDINATOR.label, "X")])
    text = "\n".join(lines)
    assert "s3cret" not in text
    assert "DATABASE_URL=postgres://carecoord:PASSWORD@db.example.org:5432/carecoord" in text
    assert "the database password in place of PASSWORD" in text
