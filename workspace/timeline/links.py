"""Where links into the shared timeline lead: the page, a section, one milestone's row.

The page folds its milestone tables (`workspace.timeline.milestone_table`): a row that does not
matter now is not on it. A link to one milestone therefore names it (`?milestone=`), and the
page shows that row as well, wherever it falls.
"""

from __future__ import annotations

import uuid

from django.urls import reverse

MILESTONE_PARAMETER = "milestone"


def timeline_url(patient_id: uuid.UUID, anchor: str = "") -> str:
    url = reverse("patient-timeline", kwargs={"patient_id": patient_id})
    return f"{url}#{anchor}" if anchor else url


def milestone_row_url(patient_id: uuid.UUID, milestone_id: int) -> str:
    """The timeline, showing the row of milestone `milestone_id` (folded away or not), at it."""
    url = reverse("patient-timeline", kwargs={"patient_id": patient_id})
    return f"{url}?{MILESTONE_PARAMETER}={milestone_id}#milestone-{milestone_id}"


def asked_milestone(value: str | None) -> int | None:
    """The milestone a link asks the page to show (`?milestone=`); None for anything but an id."""
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 19 else None
