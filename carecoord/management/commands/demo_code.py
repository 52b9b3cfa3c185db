"""`manage.py demo_code EMAIL`: the current second-factor code of a demo account.

Works only for the published demo authenticator that `seed_demo` gives accounts on the
reserved `.test` domain; it can never produce a code for a real person's device.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord import demo


class Command(BaseCommand):
    help = "Print the current sign-in code of a demo account (seed_demo's published authenticator)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("email", help="A demo account, e.g. coordinator@greatlakes-cart.test")

    def handle(self, *args: Any, **options: Any) -> None:
        email = str(options["email"]).strip().lower()
        device = TOTPDevice.objects.filter(
            user__email=email, name=demo.DEMO_DEVICE_NAME, key=demo.DEMO_TOTP_KEY_HEX, confirmed=True
        ).first()
        if device is None or not email.endswith(demo.DEMO_EMAIL_SUFFIX):
            raise CommandError(f"{email} is not a demo account with the demo authenticator (run seed_demo).")
        generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        remaining = device.step - int(generator.time - device.t0) % device.step
        self.stdout.write(f"{generator.token():0{device.digits}d}")
        self.stderr.write(f"(valid for about {remaining} more seconds)")
