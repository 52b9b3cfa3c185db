"""Writes of the referral workflow. Each: keyword-only arguments, one transaction, a timeline entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audited_update
from carecoord.access import acting_site_for, membership_at, patients_visible_to, require_acting_site
from carecoord.clinical_dates import check_planned
from carecoord.models import CareTeamLink, Patient, Product, Site, TimelineEntry, User
from carecoord.roles import Capability
from carecoord.services.care_teams import care_team_join
from carecoord.services.patients import patient_register
from carecoord.timeline import timeline_record
from referrals.deaths import refuse_if_died
from referrals.documents import original_name, stored_name, validate_upload
from referrals.milestones.services import course_changed, milestone_replan
from referrals.models import Milestone, Referral, ReferralDocument, ReferralMove
from referrals.reminders import tell_center_of_referral
from referrals.selectors import record_dates
from referrals.workflow import (
    OPEN_STATES,
    STATE_LABELS,
    Move,
    MoveNotAllowed,
    Side,
    State,
    add_business_days,
    next_state,
    side_making,
    who_makes,
)

# What the practice writes on a referral, in the order the forms show it.
REFERRAL_FIELDS = (
    "disease_area",
    "prior_lines_of_therapy",
    "prior_therapies",
    "transplant_eligibility",
    "performance_status",
    "urgency",
    "reason",
)


# The moves that still make sense once the patient has died: they close the referral.
CLOSING_MOVES = frozenset({Move.DECLINE, Move.WITHDRAW})


def _open_referral(patient: Patient, center: Site, but: Referral | None = None) -> Referral | None:
    referrals = Referral.objects.filter(patient=patient, to_center=center, state__in=list(OPEN_STATES))
    return (referrals.exclude(pk=but.pk) if but is not None else referrals).first()


def _check_fields(
    patient: Patient,
    from_site: Site,
    to_center: Site,
    referring_physician: User,
    fields: Mapping[str, Any],
    draft: Referral | None = None,
) -> None:
    """What a referral names, checked alike when it is drafted and when its `draft` is edited:
    an academic center, a physician of the practice, only the practice's own fields, and no
    other open referral of the patient to that center."""
    if not to_center.is_academic_center:
        raise ValidationError({"to_center": "Choose an academic CAR-T center."})
    if membership_at(referring_physician, from_site) is None:
        raise ValidationError({"referring_physician": "The referring physician must work at the referring practice."})
    unknown = set(fields).difference(REFERRAL_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    existing = _open_referral(patient, to_center, but=draft)
    if existing is not None:
        raise ValidationError(
            {"to_center": f"This patient already has an open referral to {to_center} (#{existing.pk})."},
            code="open_referral_exists",
            params={"referral_id": existing.pk},
        )


def referral_create(
    *, actor: User, patient: Patient, from_site: Site, to_center: Site, referring_physician: User, **fields: Any
) -> Referral:
    """Draft a referral of `patient` from the actor's practice to an academic center."""
    if from_site.is_academic_center:
        raise ValidationError({"from_site": "Referrals come from a community practice."})
    require_acting_site(
        actor,
        patient,
        from_site,
        Capability.RECORD_CARE,
        field="from_site",
        not_yours="You can only refer from a practice where you work, on this patient's care team.",
    )
    refuse_if_died(patient.pk, "patient", "no referral can be started.")
    _check_fields(patient, from_site, to_center, referring_physician, fields)
    referral = Referral(
        patient=patient,
        from_site=from_site,
        to_center=to_center,
        referring_physician=referring_physician,
        created_by=actor,
        **fields,
    )
    referral.full_clean()
    try:
        with transaction.atomic():
            referral.save()
            timeline_record(
                patient=patient,
                kind=TimelineEntry.Kind.REFERRAL,
                actor=actor,
                site=from_site,
                title=f"Referral to {to_center} drafted",
                subject=referral,
            )
            course_changed(referral)
    except IntegrityError:
        raise ValidationError({"to_center": f"This patient already has an open referral to {to_center}."}) from None
    return referral


def referral_create_with_patient(
    *,
    actor: User,
    from_site: Site,
    to_center: Site,
    referring_physician: User,
    mrn: str,
    patient_fields: dict[str, Any],
    point_persons: Mapping[str, User | None] | None = None,
    **fields: Any,
) -> Referral:
    """Register a new patient at the practice, with its point persons, and draft the referral,
    all or nothing."""
    with transaction.atomic():
        patient = patient_register(actor=actor, site=from_site, mrn=mrn, point_persons=point_persons, **patient_fields)
        return referral_create(
            actor=actor,
            patient=patient,
            from_site=from_site,
            to_center=to_center,
            referring_physician=referring_physician,
            **fields,
        )


def _field_label(name: str) -> str:
    """A field's name as the timeline says it ("reason for referral")."""
    field = Referral._meta.get_field(name)
    return "CAR-T center" if name == "to_center" else str(getattr(field, "verbose_name", name))


def referral_edit_draft(
    *, actor: User, referral: Referral, to_center: Site, referring_physician: User, **fields: Any
) -> list[str]:
    """The referring practice corrects its draft before submitting it: the same fields and the
    same checks as drafting it, while it is a draft and only by those who may act for the
    practice. Returns the names of the fields changed (none: nothing is written).

    Which fields changed goes on the timeline, their old and new values in the audit trail."""
    site = require_acting_site(
        actor,
        referral.patient,
        referral.from_site,
        Capability.RECORD_CARE,
        field="from_site",
        not_yours="Only the referring practice can edit its draft.",
    ).site
    if referral.state != State.DRAFT:
        raise ValidationError(
            f"Only a draft can be edited; this referral is {STATE_LABELS[State(referral.state)].lower()}."
        )
    refuse_if_died(referral.patient_id, "patient", "the draft can only be withdrawn.")
    _check_fields(referral.patient, referral.from_site, to_center, referring_physician, fields, draft=referral)
    wanted = {"to_center": to_center, "referring_physician": referring_physician, **fields}
    changes = {name: value for name, value in wanted.items() if getattr(referral, name) != value}
    if not changes:
        return []
    for name, value in changes.items():
        setattr(referral, name, value)
    referral.full_clean()
    named = [_field_label(name) + (f" (now {to_center})" if name == "to_center" else "") for name in changes]
    try:
        with transaction.atomic():
            # Claim the draft: a submission or withdrawal at the same moment wins, the edit is refused.
            if not audited_update(Referral.objects.filter(pk=referral.pk, state=State.DRAFT), **changes):
                raise ValidationError("This referral has just left the draft state; reload it to see where it stands.")
            timeline_record(
                patient=referral.patient,
                kind=TimelineEntry.Kind.REFERRAL,
                actor=actor,
                site=site,
                # Which fields changed, not their values: the audit trail keeps those.
                title="Referral draft changed: " + ", ".join(named),
                subject=referral,
            )
    except IntegrityError:
        raise ValidationError({"to_center": f"This patient already has an open referral to {to_center}."}) from None
    return list(changes)


@dataclass(frozen=True)
class NewPatient:
    """A patient registered at the referring practice with their first referral."""

    fields: dict[str, Any]
    mrn: str
    point_persons: Mapping[str, User | None]


class DocumentRefused(ValidationError):
    """A document of a new referral was refused; `kind` names its checklist item and `index`
    its place among the documents given."""

    def __init__(self, kind: str, error: ValidationError, index: int = 0) -> None:
        super().__init__(error)
        self.kind = kind
        self.index = index


def referral_start(
    *,
    actor: User,
    patient: Patient | NewPatient,
    from_site: Site,
    to_center: Site,
    referring_physician: User,
    documents: Iterable[tuple[str, UploadedFile]],
    submit: bool,
    **fields: Any,
) -> Referral:
    """Draft a referral (registering a new patient first), attach its checklist documents
    (pairs of kind and file; a kind may come more than once) and, if asked, submit it: all or
    nothing.

    On any refusal nothing stays behind: the rows go with the rollback and the stored files are
    deleted. A refused document raises `DocumentRefused`, naming its kind and place.
    """
    attached: list[ReferralDocument] = []
    try:
        with transaction.atomic():
            referral = _draft(actor, patient, from_site, to_center, referring_physician, **fields)
            for index, (kind, upload) in enumerate(documents):
                try:
                    document = referral_attach_document(actor=actor, referral=referral, kind=kind, upload=upload)
                except ValidationError as exc:
                    raise DocumentRefused(kind, exc, index) from exc
                attached.append(document)
            if submit:
                referral = referral_move(actor=actor, referral=referral, move=Move.SUBMIT)
    except Exception:
        # The rows went with the rollback; the files in storage do not, so remove them here.
        for document in attached:
            document.file.delete(save=False)
        raise
    return referral


def _draft(
    actor: User,
    patient: Patient | NewPatient,
    from_site: Site,
    to_center: Site,
    referring_physician: User,
    **fields: Any,
) -> Referral:
    if isinstance(patient, NewPatient):
        return referral_create_with_patient(
            actor=actor,
            from_site=from_site,
            to_center=to_center,
            referring_physician=referring_physician,
            mrn=patient.mrn,
            patient_fields=patient.fields,
            point_persons=patient.point_persons,
            **fields,
        )
    return referral_create(
        actor=actor,
        patient=patient,
        from_site=from_site,
        to_center=to_center,
        referring_physician=referring_physician,
        **fields,
    )


def _site_of(referral: Referral, side: Side) -> Site:
    return referral.to_center if side == Side.CENTER else referral.from_site


def referral_move(
    *,
    actor: User,
    referral: Referral,
    move: Move,
    note: str = "",
    decline_reason: str = "",
    consult_on: dt.date | None = None,
) -> Referral:
    """Make one move of the workflow as the actor's side; recorded with who, when and where."""
    site, current, target = _check_move(actor, referral, move, decline_reason=decline_reason, consult_on=consult_on)
    now = timezone.now()
    changes: dict[str, Any] = {"state": target.value}
    if move == Move.SUBMIT:
        deadline = add_business_days(
            referral.to_center.time_of(now), referral.to_center.referral_acknowledge_business_days
        )
        changes |= {"submitted_at": now, "acknowledge_by": deadline}
    elif move == Move.ACKNOWLEDGE:
        changes["acknowledged_at"] = now
    elif move == Move.DECLINE:
        changes["decline_reason"] = decline_reason.strip()
    with transaction.atomic():
        # Claim the move: only the request that still sees the state it started from goes on.
        if not audited_update(Referral.objects.filter(pk=referral.pk, state=current.value), **changes):
            raise ValidationError({"move": "Someone else has just moved this referral; reload and try again."})
        for name, value in changes.items():
            setattr(referral, name, value)
        ReferralMove.objects.create(
            referral=referral, from_state=current.value, to_state=target.value, actor=actor, site=site, note=note
        )
        _after_move(actor, referral, move, consult_on)
        title = f"Referral {STATE_LABELS[target].lower()}"
        if move == Move.SCHEDULE_CONSULT and consult_on is not None:
            title += f" for {consult_on:%d %b %Y}"
        body = decline_reason.strip() if move == Move.DECLINE else note
        timeline_record(
            patient=referral.patient,
            kind=TimelineEntry.Kind.REFERRAL,
            actor=actor,
            site=site,
            title=title,
            body=body,
            subject=referral,
        )
        if not patients_visible_to(actor).filter(pk=referral.patient_id).exists():
            raise PermissionDenied("This move would take the patient outside your access.")
    return referral


def _check_move(
    actor: User, referral: Referral, move: Move, *, decline_reason: str, consult_on: dt.date | None
) -> tuple[Site, State, State]:
    """The site the actor moves for, and the state from and to; refused as the workflow says."""
    # The move decides the side, and the role at that side's site decides whether one may.
    side = side_making(move)
    site = require_acting_site(
        actor,
        referral.patient,
        _site_of(referral, side),
        Capability.RECORD_CARE,
        field="move",
        not_yours=who_makes(move),
    ).site
    current = State(referral.state)
    try:
        target = next_state(move, current, side)
    except MoveNotAllowed as exc:
        raise ValidationError({"move": str(exc)}) from None
    if move not in CLOSING_MOVES:
        refuse_if_died(referral.patient_id, "move", "the referral can only be withdrawn or declined.")
    if move == Move.DECLINE and not decline_reason.strip():
        raise ValidationError({"decline_reason": "Say why the referral is declined."})
    if move == Move.SCHEDULE_CONSULT and consult_on is None:
        raise ValidationError({"consult_on": "Enter the consult date."})
    if consult_on is not None:
        check_planned("consult_on", consult_on, record_dates(referral.patient, site.zone), confirmed=True)
    return site, current, target


def _after_move(actor: User, referral: Referral, move: Move, consult_on: dt.date | None) -> None:
    """What a move brings with it: the center joins on submission and is told the referral
    has arrived, a scheduled consult is planned, and the course is recomputed."""
    if move == Move.SUBMIT:
        _share_with_center(actor, referral)
        tell_center_of_referral(referral)
    if move == Move.SCHEDULE_CONSULT and consult_on is not None:
        Milestone.objects.update_or_create(
            referral=referral, kind="consult", defaults={"planned_on": consult_on, "manual": True}
        )
    course_changed(referral)


def _share_with_center(actor: User, referral: Referral) -> None:
    """A submitted referral puts the center on the care team: the patient's care now crosses.
    The email saying so to its coordinators gives an urgent referral's acknowledgement deadline."""
    if not CareTeamLink.objects.open().filter(patient=referral.patient, site=referral.to_center).exists():
        urgent = referral.urgency != Referral.Urgency.ROUTINE
        care_team_join(
            actor=actor,
            patient=referral.patient,
            site=referral.to_center,
            capacity=CareTeamLink.Capacity.TREATING_CENTER,
            shared_by=referral.from_site,
            acknowledge_by=referral.acknowledge_by if urgent else None,
        )


def referral_attach_document(*, actor: User, referral: Referral, kind: str, upload: UploadedFile) -> ReferralDocument:
    """Attach a checklist document; a file too large or of the wrong type is refused whole."""
    acting_site_for(actor, referral.patient, Capability.RECORD_CARE, among=[referral.to_center, referral.from_site])
    if not referral.is_open:
        raise ValidationError({"file": "Documents can only be added to an open referral."})
    if kind not in ReferralDocument.Kind.values:
        raise ValidationError({"kind": "Choose a checklist item."})
    content_type = validate_upload(upload)
    document = ReferralDocument(
        referral=referral,
        kind=kind,
        original_name=original_name(upload),
        content_type=content_type,
        size=upload.size or 0,
        uploaded_by=actor,
    )
    with transaction.atomic():
        document.file.save(stored_name(content_type), upload, save=False)
        try:
            document.save()
        except Exception:
            document.file.delete(save=False)  # nothing half-saved: no orphan file without its row
            raise
    return document


def referral_set_plan(*, actor: User, referral: Referral, product: Product | None, hand_back_day: int) -> Referral:
    """The center chooses the product and the planned hand-back day.

    The product's monitoring rules then drive the planned dates; if day 0 is already set,
    the dates that depend on it are recomputed (keeping those entered by hand).
    """
    site = require_acting_site(
        actor,
        referral.patient,
        referral.to_center,
        Capability.RECORD_CARE,
        field="product",
        not_yours="Only the treating center chooses the product and the plan.",
    ).site
    if referral.state not in {State.UNDER_REVIEW, State.CONSULT_SCHEDULED, State.ACCEPTED}:
        raise ValidationError({"product": "The plan is made while the referral is reviewed or once it is accepted."})
    if product is not None and not product.is_active:
        raise ValidationError({"product": f"{product} is not offered any more."})
    if not 1 <= hand_back_day <= 90:
        raise ValidationError({"hand_back_day": "Plan the hand-back between day +1 and day +90 (typically 14 to 30)."})
    with transaction.atomic():
        referral.product, referral.hand_back_day = product, hand_back_day
        referral.save(update_fields=["product", "hand_back_day"])
        choice = product.brand_name if product else "no product yet"
        timeline_record(
            patient=referral.patient,
            kind=TimelineEntry.Kind.REFERRAL,
            actor=actor,
            site=site,
            title=f"Treatment plan: {choice}, hand-back planned on day +{hand_back_day}",
            subject=referral,
        )
        # The product's rules and the hand-back day drive the planned dates that follow day 0.
        milestone_replan(referral=referral)
    return referral
