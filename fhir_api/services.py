"""The FHIR referral intake's write: a bundle read by `fhir_api.intake` becomes a draft referral
through the referral services (the same rules as the referral page), with the lines of therapy
it sends recorded through `candidates.services` (the same rules as the treatment history page),
in one transaction, or nothing does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from candidates.models import TherapyLine
from candidates.services import therapy_line_record
from carecoord.access import patients_visible_to
from carecoord.models import Patient, PatientIdentifier, Site, User
from carecoord.request_context import acting_at
from carecoord.selectors.sites import active_memberships_of
from fhir_api import codes
from fhir_api.intake import UNPROCESSABLE, BundleRefused, IncomingReferral, Issue
from fhir_api.models import ReferralIntake
from referrals.models import Referral, ReferralDocument
from referrals.selectors import referrals_visible_to, referring_practices
from referrals.services import DocumentRefused, NewPatient, referral_start


@dataclass(frozen=True)
class IntakeResult:
    """The referral a bundle made (`created`) or found again (a bundle sent before)."""

    referral: Referral
    created: bool
    patient_created: bool
    documents: list[ReferralDocument]
    lines_created: frozenset[int] = frozenset()  # the numbers of the lines of therapy recorded
    warnings: list[tuple[int, Issue]] = field(default_factory=list)  # by entry, beside the reading's


def intake_practices(actor: User) -> list[Site]:
    """The practices `actor` may refer from, as the referral page decides; none is refused (403)."""
    practices = referring_practices(active_memberships_of(actor))
    if not practices:
        raise PermissionDenied("Referrals are sent by staff who record care at a community practice.")
    return practices


def referral_intake(*, actor: User, practices: list[Site], incoming: IncomingReferral) -> IntakeResult:
    """Draft the referral a bundle asks for, from the practice whose MRN the Patient carries:
    the patient found by that MRN or registered with it, the documents attached. A bundle
    whose ServiceRequest identifier that practice sent before finds its referral and changes
    nothing."""
    from_site = _posting_site(practices, incoming)
    system, value = incoming.identifier
    attached: list[ReferralDocument] = []
    try:
        with transaction.atomic(), acting_at(from_site.pk):
            # Two copies of one bundle sent at once: the second waits here, then finds the first's.
            key = f"fhir-intake:{from_site.pk}:{system}:{value}"
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
            known = ReferralIntake.objects.filter(site=from_site, system=system, value=value).first()
            if known is not None:
                return _again(actor, known, incoming)
            patient = _patient(actor, from_site, incoming)
            try:
                referral = referral_start(
                    actor=actor,
                    patient=patient,
                    from_site=from_site,
                    to_center=_center(incoming),
                    referring_physician=_physician(actor, incoming),
                    documents=[(document.kind, document.upload()) for document in incoming.documents],
                    submit=False,
                    **incoming.referral_fields,
                )
            except DocumentRefused as exc:
                entry = incoming.documents[exc.index].entry
                expression = f"Bundle.entry[{entry}].resource.content[0].attachment.data"
                raise BundleRefused([Issue(expression, " ".join(exc.messages), "value", UNPROCESSABLE)]) from exc
            except ValidationError as exc:
                raise BundleRefused(_issues(exc, incoming)) from exc
            attached = list(referral.documents.order_by("pk"))
            lines_created, warnings = _record_lines(actor, referral.patient, from_site, incoming)
            ReferralIntake.objects.create(
                site=from_site, system=system, value=value, referral=referral, received_by=actor
            )
    except Exception:
        # The rows went with the rollback; the stored files of the documents attached do not.
        for document in attached:
            document.file.delete(save=False)
        raise
    return IntakeResult(
        referral,
        created=True,
        patient_created=isinstance(patient, NewPatient),
        documents=attached,
        lines_created=lines_created,
        warnings=warnings,
    )


def _record_lines(
    actor: User, patient: Patient, site: Site, incoming: IncomingReferral
) -> tuple[frozenset[int], list[tuple[int, Issue]]]:
    """Record the lines of therapy the bundle sends, for the practice, as its page would. A line
    whose number the patient already has is kept as carecoord has it (as a patient found is),
    with a warning. Every refusal at once, each on its element."""
    recorded = set(TherapyLine.objects.filter(patient=patient).values_list("number", flat=True))
    created: set[int] = set()
    warnings: list[tuple[int, Issue]] = []
    issues: list[Issue] = []
    for line in incoming.lines:
        if line.number in recorded:
            message = (
                f"Line {line.number} is already recorded for this patient: kept as carecoord has it "
                "(correct it on the treatment history page)."
            )
            warnings.append((line.entries[0], Issue(line.where["number"], message, "informational")))
            continue
        try:
            therapy_line_record(actor=actor, patient=patient, site=site, **line.values)
        except ValidationError as exc:
            issues += [
                Issue(line.where.get(key, line.where["regimen"]), message, "business-rule", UNPROCESSABLE)
                for key, messages in exc.message_dict.items()
                for message in messages
            ]
        else:
            created.add(line.number)
    if issues:
        raise BundleRefused(issues)
    return frozenset(created), warnings


def _posting_site(practices: list[Site], incoming: IncomingReferral) -> Site:
    """The practice the referral comes from: the one of the poster's whose MRN the Patient carries."""
    mine = [site for site in practices if site.pk in incoming.mrns]
    if len(mine) == 1:
        return mine[0]
    expression = f"Bundle.entry[{incoming.patient_entry}].resource.identifier"
    if mine:
        message = "The patient carries MRNs of several of your practices: send only the referring practice's."
    else:
        systems = " or ".join(codes.mrn_system(site.pk) for site in practices)
        message = f"Give the patient's MRN at your practice: an identifier with system {systems}."
    raise BundleRefused([Issue(expression, message, "required", UNPROCESSABLE)])


def _again(actor: User, known: ReferralIntake, incoming: IncomingReferral) -> IntakeResult:
    referral = referrals_visible_to(actor).filter(pk=known.referral_id).select_related("patient").first()
    if referral is None:
        # The practice left the patient's care team since: the identifier is spent, the rest unseen.
        expression = f"Bundle.entry[{incoming.request_entry}].resource.identifier"
        message = "This identifier was sent before, for a referral your practice no longer shares."
        raise BundleRefused([Issue(expression, message, "duplicate", UNPROCESSABLE)])
    documents = list(referral.documents.order_by("pk"))
    return IntakeResult(referral, created=False, patient_created=False, documents=documents)


def _patient(actor: User, site: Site, incoming: IncomingReferral) -> Patient | NewPatient:
    """The patient the practice's MRN finds, else a new one to register with it. The record
    found is kept as it is (the bundle's name and sex are not applied); a birth date that
    differs says the MRN is probably the wrong one."""
    mrn = incoming.mrns[site.pk]
    identifier = PatientIdentifier.objects.filter(site=site, mrn=mrn).select_related("patient").first()
    if identifier is None:
        return NewPatient(fields=incoming.patient_fields, mrn=mrn, point_persons={})
    patient = identifier.patient
    if not patients_visible_to(actor).filter(pk=patient.pk).exists():
        # A patient the practice registered once and no longer shares: nothing of them is told.
        expression = f"Bundle.entry[{incoming.patient_entry}].resource.identifier"
        message = "This MRN belongs to a patient your practice no longer shares."
        raise BundleRefused([Issue(expression, message, "business-rule", UNPROCESSABLE)])
    if patient.date_of_birth != incoming.patient_fields["date_of_birth"]:
        expression = f"Bundle.entry[{incoming.patient_entry}].resource.birthDate"
        message = "The patient with this MRN at your practice has another date of birth: check the MRN."
        raise BundleRefused([Issue(expression, message, "business-rule", UNPROCESSABLE)])
    return patient


def _center(incoming: IncomingReferral) -> Site:
    center = Site.objects.filter(pk=incoming.center).first() if incoming.center is not None else None
    if center is None:
        expression = f"Bundle.entry[{incoming.request_entry}].resource.performer[0]"
        raise BundleRefused([Issue(expression, "No such center.", "not-found", UNPROCESSABLE)])
    return center


def _physician(actor: User, incoming: IncomingReferral) -> User:
    """The referring physician the ServiceRequest names; the poster when it names none. The
    referral service checks that they work at the practice."""
    if incoming.requester is None:
        return actor
    physician = User.objects.filter(pk=incoming.requester, is_active=True).first()
    if physician is None:
        # As for someone who works elsewhere (the service's words): whether the id exists is not told.
        expression = f"Bundle.entry[{incoming.request_entry}].resource.requester"
        message = "The referring physician must work at the referring practice."
        raise BundleRefused([Issue(expression, message, "business-rule", UNPROCESSABLE)])
    return physician


def _issues(error: ValidationError, incoming: IncomingReferral) -> list[Issue]:
    """A refusal of the referral services, each message on the element it is about."""
    patient = f"Bundle.entry[{incoming.patient_entry}].resource"
    request = f"Bundle.entry[{incoming.request_entry}].resource"
    elements = {
        "to_center": f"{request}.performer[0]",
        "referring_physician": f"{request}.requester",
        "reason": f"{request}.note",
        "urgency": f"{request}.priority",
        "prior_lines_of_therapy": f"{request}.extension('{codes.PRIOR_LINES}')",
        "performance_status": f"{request}.extension('{codes.ECOG}')",
        "transplant_eligibility": f"{request}.extension('{codes.TRANSPLANT}')",
        "prior_therapies": f"{request}.extension('{codes.PRIOR_THERAPIES}')",
        "disease_area": f"Bundle.entry[{incoming.condition_entry}].resource.code",
        "from_site": f"{patient}.identifier",
        "site": f"{patient}.identifier",
        "mrn": f"{patient}.identifier",
        "given_name": f"{patient}.name",
        "family_name": f"{patient}.name",
        "date_of_birth": f"{patient}.birthDate",
        "sex": f"{patient}.gender",
        "caregiver_name": f"{patient}.contact[0].name",
        "caregiver_relationship": f"{patient}.contact[0].relationship",
        "caregiver_phone": f"{patient}.contact[0].telecom",
    }
    if not hasattr(error, "error_dict"):
        return [Issue(request, message, "business-rule", UNPROCESSABLE) for message in error.messages]
    return [
        Issue(elements.get(key, request), message, "business-rule", UNPROCESSABLE)
        for key, messages in error.message_dict.items()
        for message in messages
    ]
