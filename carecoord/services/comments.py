from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from carecoord.access import require_capability
from carecoord.models import Patient, Site, TimelineEntry, User
from carecoord.roles import Capability
from carecoord.services.patients import active_membership
from carecoord.timeline import timeline_record

COMMENT_MAX_LENGTH = 4000


def comment_post(*, actor: User, patient: Patient, site: Site, body: str) -> TimelineEntry:
    """A message between the care-team sites, on the patient's shared timeline."""
    require_capability(actor, patient, Capability.RECORD_CARE)
    if active_membership(actor, site) is None:
        raise ValidationError({"site": "You can only write as a site where you work."})
    if not patient.care_team.filter(site=site, ended_at__isnull=True).exists():
        raise ValidationError({"site": "This site is not on the patient's care team."})
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
