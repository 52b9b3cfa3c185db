"""What the apps above the core prefill a new referral with, for a patient chosen in advance.

The referral form belongs to `referrals/`, which imports no app above it; an app that knows
something the center will want (the treatment history, which products the patient may be a
candidate for) registers a function in its `AppConfig.ready` giving the form's initial values
for the patient. Later registrations fill what earlier ones left out, never overwrite it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carecoord.models import Patient

Prefill = Callable[[Patient], dict[str, Any]]

_registry: dict[str, Prefill] = {}


def register_referral_prefill(name: str, prefill: Prefill) -> None:
    _registry[name] = prefill


def referral_prefill(patient: Patient) -> dict[str, Any]:
    """The initial values every registered app gives a referral of `patient` (already loaded
    through the access path)."""
    values: dict[str, Any] = {}
    for prefill in _registry.values():
        for key, value in prefill(patient).items():
            values.setdefault(key, value)
    return values
