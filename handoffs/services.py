"""Writes of hand-offs and their templates. Each: keyword-only arguments, one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from audit.services import audited_update
from carecoord.access import acting_site_for, acting_sites, membership_at, require_acting_site
from carecoord.claims import claim_then_notify
from carecoord.emails import email_queue
from carecoord.models import CareTeamLink, Patient, PointPerson, Site, TimelineEntry, User
from carecoord.roles import Capability, Role
from carecoord.timeline import timeline_record
from handoffs.models import Handoff, HandoffQuestion, HandoffTemplate, HandoffTemplateVersion, thread_sites
from handoffs.prefill import prefill_values
from handoffs.schema import SchemaError, validate_schema, validate_values
from referrals.workflow import add_business_days

QUESTION_MAX_LENGTH = 4000


def published_version(template: HandoffTemplate) -> HandoffTemplateVersion | None:
    return template.versions.filter(status=HandoffTemplateVersion.Status.PUBLISHED).order_by("-number").first()


# --- Templates -------------------------------------------------------------------------------


def _may_edit_template(actor: User, template: HandoffTemplate) -> None:
    """Site administrators (staff) edit shared templates; a site's coordinators edit its own."""
    if template.owner_site is None:
        if not actor.is_staff:
            raise PermissionDenied("Only site administrators edit shared templates.")
        return
    membership = membership_at(actor, template.owner_site)
    if not actor.is_staff and (membership is None or membership.role != Role.COORDINATOR):
        raise PermissionDenied(f"Only coordinators of {template.owner_site} edit this template.")


def template_draft(*, actor: User, template: HandoffTemplate, schema: Any) -> HandoffTemplateVersion:
    """Save the template's next version as a draft (a published version never changes)."""
    _may_edit_template(actor, template)
    try:
        validate_schema(schema)
    except SchemaError as exc:
        raise ValidationError({"schema": str(exc)}) from None
    with transaction.atomic():
        draft = template.versions.filter(status=HandoffTemplateVersion.Status.DRAFT).first()
        if draft is not None:
            draft.schema = schema
            draft.save(update_fields=["schema"])
            return draft
        number = (template.versions.aggregate(Max("number"))["number__max"] or 0) + 1
        return HandoffTemplateVersion.objects.create(template=template, number=number, schema=schema, created_by=actor)


def template_publish(*, actor: User, version: HandoffTemplateVersion) -> HandoffTemplateVersion:
    _may_edit_template(actor, version.template)
    if version.status == HandoffTemplateVersion.Status.PUBLISHED:
        raise ValidationError({"version": "This version is already published."})
    with transaction.atomic():
        if not HandoffTemplateVersion.objects.filter(pk=version.pk, status=HandoffTemplateVersion.Status.DRAFT).update(
            status=HandoffTemplateVersion.Status.PUBLISHED, published_at=timezone.now()
        ):
            raise ValidationError({"version": "This version has just been published."})
    version.refresh_from_db()
    return version


# --- Hand-offs -------------------------------------------------------------------------------


def handoff_start(
    *, actor: User, patient: Patient, template: HandoffTemplate, from_site: Site, to_site: Site
) -> Handoff:
    """A draft of the template's published version, prefilled from what carecoord knows."""
    require_acting_site(
        actor,
        patient,
        from_site,
        Capability.RECORD_CARE,
        field="from_site",
        not_yours="You can only send from a site where you work, on this patient's care team.",
    )
    if not CareTeamLink.objects.open().filter(patient=patient, site=to_site).exists():
        raise ValidationError({"to_site": f"{to_site} is not on this patient's care team."})
    if from_site == to_site:
        raise ValidationError({"to_site": "Choose the other site of the care team."})
    if template.owner_site_id not in (None, from_site.pk):
        raise ValidationError({"template": "This template belongs to another site."})
    version = published_version(template)
    if version is None:
        raise ValidationError({"template": "This template has no published version yet."})
    with transaction.atomic():
        return Handoff.objects.create(
            patient=patient,
            version=version,
            from_site=from_site,
            to_site=to_site,
            created_by=actor,
            values=prefill_values(patient, version.schema),
        )


def _may_write(actor: User, handoff: Handoff) -> None:
    """The sending site's staff fill in and send a hand-off, as their role there allows."""
    acting_site_for(actor, handoff.patient, Capability.RECORD_CARE, among=[handoff.from_site])


def _draft_values(actor: User, handoff: Handoff, values: dict[str, Any]) -> dict[str, Any]:
    """The values a draft keeps of `values`, once `actor` may write it and it is still a draft."""
    _may_write(actor, handoff)
    if handoff.state != Handoff.State.DRAFT:
        raise ValidationError({"state": "Only a draft can be edited; start a new hand-off to change a sent one."})
    return {key: value for key, value in values.items() if "." in key}


def handoff_preview(*, actor: User, handoff: Handoff, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The draft as it reads with `values`, as typed, and the message of each field that would
    stop it being sent (missing ones too); nothing is saved."""
    known = _draft_values(actor, handoff, values)
    _, errors = validate_values(handoff.version.schema, known, require=True)
    return known, errors


def handoff_save(*, actor: User, handoff: Handoff, values: dict[str, Any]) -> dict[str, str]:
    """Keep the draft exactly as typed; returns the message of each field that is not right yet."""
    known = _draft_values(actor, handoff, values)
    _, errors = validate_values(handoff.version.schema, known, require=False)
    with transaction.atomic():
        handoff.values = known
        handoff.save(update_fields=["values", "updated_at"])
    return errors


def _receivers(handoff: Handoff) -> list[User]:
    persons = (
        PointPerson.objects.open()
        .filter(link__patient=handoff.patient, link__site=handoff.to_site, user__is_active=True)
        .select_related("user")
    )
    return [p.user for p in persons]


def _notify(handoff: Handoff, recipients: list[User], template: str, key: str) -> None:
    link = reverse("handoff-detail", kwargs={"handoff_id": handoff.pk})
    for user in recipients:
        email_queue(
            recipient=user,
            template=template,
            context={"handoff": handoff, "initials": handoff.patient.initials, "link": link},
            dedupe_key=f"{key}:{handoff.pk}:{user.pk}",
        )


def handoff_send(*, actor: User, handoff: Handoff) -> Handoff:
    """Validate every field against the template version and send; a draft with errors stays a draft."""
    _may_write(actor, handoff)
    if handoff.state != Handoff.State.DRAFT:
        raise ValidationError({"state": "This hand-off has already been sent."})
    cleaned, errors = validate_values(handoff.version.schema, handoff.values, require=True)
    if errors:
        raise ValidationError({f"values.{path}": message for path, message in errors.items()})
    now = timezone.now()
    with transaction.atomic():
        if not audited_update(
            Handoff.objects.filter(pk=handoff.pk, state=Handoff.State.DRAFT),
            state=Handoff.State.SENT,
            values=cleaned,
            sent_at=now,
            sent_by=actor,
            acknowledge_by=add_business_days(handoff.to_site.time_of(now), 1),
        ):
            raise ValidationError({"state": "This hand-off has just been sent."})
        handoff.refresh_from_db()
        older = Handoff.objects.filter(
            patient=handoff.patient,
            version__template=handoff.version.template,
            from_site=handoff.from_site,
            to_site=handoff.to_site,
            state__in=[Handoff.State.SENT, Handoff.State.ACKNOWLEDGED],
        ).exclude(pk=handoff.pk)
        audited_update(older, state=Handoff.State.SUPERSEDED, superseded_by=handoff)
        timeline_record(
            patient=handoff.patient,
            kind=TimelineEntry.Kind.HANDOFF,
            actor=actor,
            site=handoff.from_site,
            title=f"Hand-off sent to {handoff.to_site}: {handoff.version.template.name} (v{handoff.version.number})",
            subject=handoff,
        )
        _notify(handoff, _receivers(handoff), "handoff-sent", "handoff-sent")
    return handoff


def may_acknowledge(actor: User, handoff: Handoff, receivers: Sequence[User] | None = None) -> bool:
    """Whether `actor` receives the hand-off for its receiving site: acting for that site in a
    role that records care, and its named point person or, while it names none, a coordinator
    there (the role that manages its care team). `receivers` saves a query when known."""
    acting = next((a for a in acting_sites(actor, handoff.patient) if a.site.pk == handoff.to_site_id), None)
    if acting is None or not acting.can(Capability.RECORD_CARE):
        return False
    named = [user.pk for user in (_receivers(handoff) if receivers is None else receivers)]
    return actor.pk in named if named else acting.can(Capability.MANAGE_CARE_TEAM)


def handoff_acknowledge(*, actor: User, handoff: Handoff) -> Handoff:
    if not may_acknowledge(actor, handoff):
        raise PermissionDenied(f"The point person at {handoff.to_site} acknowledges this hand-off.")
    require_acting_site(actor, handoff.patient, handoff.to_site, Capability.RECORD_CARE)
    if handoff.state != Handoff.State.SENT:
        raise ValidationError({"state": "Only a sent hand-off can be acknowledged."})
    with transaction.atomic():
        audited_update(
            Handoff.objects.filter(pk=handoff.pk, state=Handoff.State.SENT),
            state=Handoff.State.ACKNOWLEDGED,
            acknowledged_at=timezone.now(),
            acknowledged_by=actor,
        )
        handoff.refresh_from_db()
        timeline_record(
            patient=handoff.patient,
            kind=TimelineEntry.Kind.HANDOFF,
            actor=actor,
            site=handoff.to_site,
            title=f"Hand-off acknowledged at {handoff.to_site}: {handoff.version.template.name}",
            subject=handoff,
        )
    return handoff


def handoff_ask(*, actor: User, handoff: Handoff, body: str, needs_answer: bool | None = None) -> HandoffQuestion:
    """A message between the two sites about a sent hand-off: a question, an answer or a note
    (`HandoffQuestion.kind_for`; `needs_answer` None: the default there). An answer closes the
    other site's open question and tells its askers by email; a question from the receiving site
    tells the sender."""
    site = acting_site_for(actor, handoff.patient, Capability.RECORD_CARE, among=_thread_site_objects(handoff)).site
    if handoff.state == Handoff.State.DRAFT:
        raise ValidationError({"body": "Questions come once the hand-off is sent."})
    text = body.strip()
    if not text or len(text) > QUESTION_MAX_LENGTH:
        raise ValidationError({"body": f"Write a question of up to {QUESTION_MAX_LENGTH} characters."})
    with transaction.atomic():
        # The hand-off's row locked first, until the message is recorded: two messages at once
        # on the same hand-off are recorded one after the other, the later one reading the open
        # question as the earlier one left it.
        locked = Handoff.objects.select_for_update().only(*_THREAD_STATE).get(pk=handoff.pk)
        for name in _THREAD_STATE:
            setattr(handoff, name, getattr(locked, name))
        answering = handoff.awaited_site_id() == site.pk
        askers = _open_question_authors(handoff) if answering else []
        kind = HandoffQuestion.kind_for(answering=answering, needs_answer=needs_answer)
        question = HandoffQuestion.objects.create(handoff=handoff, author=actor, site=site, body=text, kind=kind)
        _keep_open_question(handoff, question)
        timeline_record(
            patient=handoff.patient,
            kind=TimelineEntry.Kind.HANDOFF,
            actor=actor,
            site=site,
            title=f"{question.get_kind_display()} about the hand-off from {site}",
            body=text,
            subject=handoff,
        )
        if kind == HandoffQuestion.Kind.QUESTION and site == handoff.to_site and handoff.sent_by is not None:
            _notify(handoff, [handoff.sent_by], "handoff-question", f"handoff-question-{question.pk}")
        _notify(handoff, askers, "handoff-answer", f"handoff-answer-{question.pk}")
    return question


# What `handoff_ask` reads of the hand-off under its lock.
_THREAD_STATE = ("state", "last_word_site_id", "last_word_at")


def _thread_site_objects(handoff: Handoff) -> list[Site]:
    by_id = {handoff.to_site_id: handoff.to_site, handoff.from_site_id: handoff.from_site}
    return [by_id[site_id] for site_id in thread_sites(handoff)]


def _open_question_authors(handoff: Handoff) -> list[User]:
    """The active authors of the open question and its follow-ups (the questions its site asked
    since the wait began), each once: whom an answer is news to."""
    if handoff.last_word_site_id is None or handoff.last_word_at is None:
        return []
    asked = HandoffQuestion.objects.filter(
        handoff=handoff,
        site_id=handoff.last_word_site_id,
        kind=HandoffQuestion.Kind.QUESTION,
        created_at__gte=handoff.last_word_at,
    )
    return list(User.objects.filter(is_active=True, pk__in=asked.values("author_id")).order_by("pk"))


def _keep_open_question(handoff: Handoff, message: HandoffQuestion) -> None:
    """Keep the hand-off's open question (`last_word_site`, `last_word_at`) as `message` leaves
    it: a question opens one, unless its site's is already open (the wait began then); an answer
    closes it; a note changes nothing."""
    if message.kind == HandoffQuestion.Kind.QUESTION and handoff.last_word_site_id != message.site_id:
        handoff.last_word_site, handoff.last_word_at = message.site, message.created_at
    elif message.kind == HandoffQuestion.Kind.ANSWER:
        handoff.last_word_site, handoff.last_word_at = None, None
    else:
        return
    Handoff.objects.filter(pk=handoff.pk).update(
        last_word_site=handoff.last_word_site, last_word_at=handoff.last_word_at
    )


def remind_overdue_handoffs() -> int:
    """Remind the receiving point persons, once, of hand-offs not acknowledged in a business day.

    Each hand-off is claimed by setting `reminder_sent_at` while it is still sent and not yet
    reminded (`carecoord.claims`), so two runs at once never remind twice.
    """
    now = timezone.now()

    def remind(handoff: Handoff) -> bool:
        _notify(handoff, _receivers(handoff), "handoff-reminder", "handoff-reminder")
        timeline_record(
            patient=handoff.patient,
            kind=TimelineEntry.Kind.HANDOFF,
            site=handoff.to_site,
            title=f"Hand-off not acknowledged within a business day: {handoff.to_site} reminded",
            subject=handoff,
        )
        return True

    return claim_then_notify(
        Handoff.objects.acknowledgement_overdue(now).filter(reminder_sent_at__isnull=True),
        still_due=Q(reminder_sent_at__isnull=True, state=Handoff.State.SENT),
        claim={"reminder_sent_at": now},
        load=Handoff.objects.select_related("patient", "to_site", "version__template"),
        notify=remind,
    )
