"""A stored digest as its recipient may read it today.

The digest was built from what the person could see when it was sent. Since then their site
may have left a patient's care team, or their membership may have ended: the page must not
show those patients any more. Each stored section names its patient, and only the sections of
patients the reader can still see are kept; a section that names no patient (a digest stored
before sections did) cannot be checked and is left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from carecoord.access import visible_among
from carecoord.access.scope import AnyUser
from carecoord.models import DigestDelivery

# The parts of a stored section that say something (a digest stored before "active" has none).
REPORTED_PARTS = ("active", "recent", "due", "overdue")


@dataclass(frozen=True)
class VisibleSection:
    patient_id: uuid.UUID
    content: dict[str, Any]  # a stored `PatientDigest`, as JSON


@dataclass(frozen=True)
class VisibleDigest:
    """What the page shows of one stored digest: its week and the sections still visible."""

    delivery: DigestDelivery
    week_start: str
    sections: list[VisibleSection]
    left_out: bool  # some sections with something to report are no longer shown

    @property
    def is_empty(self) -> bool:
        return not self.sections


def _patient_id(section: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(section["patient_id"]))
    except (KeyError, ValueError):
        return None


def _reports(section: dict[str, Any]) -> bool:
    return any(section.get(part) for part in REPORTED_PARTS)


def visible_digest(user: AnyUser, delivery: DigestDelivery, *, shown_with: Iterable[uuid.UUID] = ()) -> VisibleDigest:
    """`delivery` with only the sections that report something about a patient `user` sees today.

    `shown_with`: the other patients the page shows (this week's preview), whose grants are
    read in the same query, so the audit of the page's reads finds them all read already."""
    content = delivery.content or {}
    reporting = [(s, _patient_id(s)) for s in content.get("patients", []) if _reports(s)]
    named = [pk for _section, pk in reporting if pk is not None]
    visible = visible_among(user, [*named, *shown_with]) if named else set()
    sections = [VisibleSection(pk, section) for section, pk in reporting if pk is not None and pk in visible]
    return VisibleDigest(
        delivery=delivery,
        week_start=str(content.get("week_start", delivery.week_start)),
        sections=sections,
        left_out=len(sections) < len(reporting),
    )
