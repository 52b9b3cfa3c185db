"""The codes a person's authenticator app shows: RFC 6238 (TOTP), as django-otp checks them.
Plain Python: the load client computes them from the plan's keys."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Mapping


def code_at(authenticator: Mapping[str, int | str], at: float) -> str:
    """The code shown at `at` (seconds since the epoch) by the app holding `authenticator`
    (django-otp's TOTP device fields: hex `key`, `step`, `t0`, `digits`, `drift`)."""
    step, t0, digits = int(authenticator["step"]), int(authenticator["t0"]), int(authenticator["digits"])
    counter = int((at - t0) // step) + int(authenticator["drift"])
    digest = hmac.new(bytes.fromhex(str(authenticator["key"])), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"
