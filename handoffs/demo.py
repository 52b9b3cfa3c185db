"""Demonstration hand-offs: the transition to community care for patients being handed back
(sent, waiting for acknowledgement) and for those in follow-up (acknowledged)."""

from __future__ import annotations

from carecoord.models import CareTeamLink, Patient, PointPerson, User
from carecoord.models.patients import Phase
from handoffs.models import Handoff, HandoffTemplate
from handoffs.schema import fields_of
from handoffs.services import handoff_acknowledge, handoff_save, handoff_send, handoff_start

TRANSITION = "Post-CAR-T transition to community care"
SAMPLE: dict[str, object] = {
    "text": "See the center's discharge summary (demo).",
    "long_text": "See the center's discharge summary (demo).",
    "yes_no": "yes",
    "number": "0",
    "grade": "none recorded",
    "ecog": "1",
    "date": "2027-01-01",
    "medication_list": [{"drug": "Acyclovir", "dose": "800 mg", "frequency": "twice daily", "until": "1 year"}],
    "lab_schedule": [{"test": "CBC with differential", "frequency": "weekly", "until": "counts recover"}],
}


def seed_handoffs(senders: dict[int, User]) -> int:
    """`senders` maps a center's site id to the coordinator who sends its hand-offs."""
    template = HandoffTemplate.objects.get(name=TRANSITION, owner_site__isnull=True)
    created = 0
    for patient in Patient.objects.filter(phase__in=[Phase.HAND_BACK, Phase.FOLLOW_UP]):
        if Handoff.objects.filter(patient=patient).exists():
            continue
        center = CareTeamLink.objects.open().get(patient=patient, capacity="treating_center").site
        practice = CareTeamLink.objects.open().get(patient=patient, capacity="community_practice").site
        sender = senders[center.pk]
        handoff = handoff_start(actor=sender, patient=patient, template=template, from_site=center, to_site=practice)
        values = dict(handoff.values)
        for field in fields_of(handoff.version.schema):
            values.setdefault(field.path, field.choices[0] if field.choices else SAMPLE[field.type])
        handoff_save(actor=sender, handoff=handoff, values=values)
        handoff_send(actor=sender, handoff=handoff)
        if patient.phase == Phase.FOLLOW_UP:
            primary = PointPerson.objects.get(link__patient=patient, link__site=practice, rank="primary").user
            handoff_acknowledge(actor=primary, handoff=handoff)
        created += 1
    return created
