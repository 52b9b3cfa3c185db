from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from carecoord.access import require_acting_site
from carecoord.models import Patient, Site, TimelineEntry, User
from carecoord.roles import Capability
from carecoord.timeline import timeline_record

COMMENT_MAX_LENGTH = 4000


def comment_post(*, actor: User, patient: Patient, site: Site, body: str) -> TimelineEntry:
    """A message between the care-team sites, on the patient's shared timeline."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    text = body.strip()
    if not text:
        raise ValidationError({"body": "Write a message."})
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError({"body": f"Keep the message under {COMMENT_MAX_LENGTH} characters."})
    with transaction.atomic():
        return timeline_record(
            patient=patient,
            kind=TimelineEntry.Kind.COMMENT,
            actor=actor,
            site=site,
            title=f"Comment from {site}",
            body=text,
        )
