"""What the apps above the core already hold for a referral's checklist item, for one patient.

The referral checklist belongs to `referrals/`, which imports no app above it; an app that
records something the center will want (the treatment history: the prior lines of therapy)
registers, in its `AppConfig.ready`, a function saying in words what it holds for a patient,
under the checklist kind it stands for ("" when it holds nothing). `referrals.readiness` then
counts the item as on file as it would a document of that kind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

OnFile = Callable[[uuid.UUID], str]

_registry: dict[str, dict[str, OnFile]] = {}


def register_record_on_file(kind: str, name: str, on_file: OnFile) -> None:
    """`on_file(patient_id)` says what app `name` holds for the checklist item `kind`."""
    _registry.setdefault(kind, {})[name] = on_file


def records_on_file(patient_id: uuid.UUID) -> dict[str, list[str]]:
    """By checklist kind, what every registered app holds for the patient (already loaded
    through the access path): one query or so per registered app."""
    found: dict[str, list[str]] = {}
    for kind, apps in _registry.items():
        words = [said for on_file in apps.values() if (said := on_file(patient_id))]
        if words:
            found[kind] = words
    return found
