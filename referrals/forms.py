"""Forms of the referral pages: they validate what was posted; the services write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from carecoord.access import patients_visible_to
from carecoord.models import CareTeamLink, Patient, PointPerson, Product, Site, SiteMembership, User
from carecoord.models.patients import DiseaseArea
from carecoord.phones import PhoneField
from carecoord.records_on_file import records_on_file
from carecoord.roles import Capability, Role
from carecoord.selectors.sites import active_memberships_of, people_who_can_act_at, roles_of_people_at, sites_directory
from carecoord.text_limits import NOTE_MAX_LENGTH, PRIOR_THERAPIES_MAX_LENGTH, REASON_MAX_LENGTH
from carecoord.web.forms import person_label
from referrals.documents import ACCEPTED, validate_upload
from referrals.models import PendingUpload, Referral, ReferralDocument
from referrals.pending_uploads import as_upload, pending_upload_keep, pending_uploads_discard
from referrals.readiness import document_choices, needs_by_disease
from referrals.selectors import referrals_visible_to, referring_practices
from referrals.services import REFERRAL_FIELDS, DocumentRefused, NewPatient
from referrals.workflow import OPEN_STATES, Move

TRANSPLANT_HELP = "Recorded for the center; ineligibility for transplant does not rule out CAR-T"

# ECOG performance status, as the scale itself words it.
ECOG_CHOICES = [
    (0, "0 · Fully active"),
    (1, "1 · Restricted in strenuous activity, ambulatory"),
    (2, "2 · Ambulatory and capable of self-care, unable to work"),
    (3, "3 · Capable of only limited self-care"),
    (4, "4 · Completely disabled"),
]

NEW_PATIENT_REQUIRED = ("given_name", "family_name", "date_of_birth", "sex", "mrn", "primary_point_person")
CAREGIVER_FIELDS = ("caregiver_name", "caregiver_relationship", "caregiver_phone")
# Keys of the services' errors that belong to a differently named form field.
SERVICE_KEY_TO_FIELD = {"site": "from_site"}


def document_field_name(kind: str) -> str:
    return f"doc_{kind}"


def pending_field_name(kind: str) -> str:
    """The hidden id of the file kept for `kind` from an earlier round."""
    return f"pending_{kind}"


def remove_field_name(kind: str) -> str:
    return f"remove_{kind}"


PENDING_GONE = "The file attached earlier is no longer available: choose it again."


@dataclass(frozen=True)
class Need:
    """A disease area whose center needs a checklist item, and what it looks for in it; the form
    shows the one of the disease chosen (`chosen` when the form was drawn)."""

    disease: str
    disease_label: str
    what: str
    chosen: bool


@dataclass(frozen=True)
class DocumentRow:
    """One checklist item of the form: its file input, the file kept from an earlier round, what
    the center needs in it by disease, and what is already on file for the patient chosen."""

    field: forms.BoundField
    attached: PendingUpload | None
    pending_name: str
    remove_name: str
    needs: list[Need]
    records: tuple[str, ...] = ()
    patient_name: str = ""


def _physicians_at(sites: list[Site]) -> QuerySet[User]:
    memberships = SiteMembership.objects.none()
    for site in sites:
        memberships |= SiteMembership.objects.active_at(site).filter(role=Role.PHYSICIAN)
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by("full_name")


def referable_patients(user: User, sites: list[Site]) -> QuerySet[Patient]:
    """The user's patients whose care team has an open link to one of `sites`."""
    return (
        patients_visible_to(user, Capability.RECORD_CARE)
        .filter(pk__in=CareTeamLink.objects.open().filter(site__in=sites).values("patient_id"))
        .distinct()
        .order_by("family_name", "given_name", "id")
    )


class PersonChoiceField(forms.ModelChoiceField[User]):
    roles: Mapping[int, str] = {}  # by user id: what they do at the practice, next to the name

    def label_from_instance(self, obj: User) -> str:
        return person_label(obj, self.roles.get(obj.pk, ""))


class PatientChoiceField(forms.ModelChoiceField[Patient]):
    def label_from_instance(self, obj: Patient) -> str:
        return f"{obj.family_name}, {obj.given_name} (born {obj.date_of_birth:%d %b %Y})"


class PageForm(forms.Form):
    """A form of the referral pages: labels without a trailing colon, like the rest of the site."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ReferralFieldsForm(PageForm):
    """What the practice writes on a referral, beside its patient and its practice: the fields
    of a new referral that its draft may still correct (`REFERRAL_FIELDS`, the center, the
    referring physician)."""

    to_center = forms.ModelChoiceField(
        label="CAR-T center", queryset=Site.objects.none(), empty_label="Choose a center"
    )
    referring_physician = PersonChoiceField(
        label="Referring physician", queryset=User.objects.none(), empty_label="Choose a physician"
    )
    disease_area = forms.ChoiceField(
        label="Disease area",
        choices=[("", "Choose"), *DiseaseArea.choices],
        help_text="For a new patient this is also recorded as the patient's disease area.",
    )
    prior_lines_of_therapy = forms.IntegerField(label="Prior lines of therapy", min_value=0, max_value=20)
    prior_therapies = forms.CharField(
        label="Prior therapies",
        required=False,
        max_length=PRIOR_THERAPIES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Regimens, dates and responses.",
    )
    transplant_eligibility = forms.ChoiceField(
        label="Transplant eligibility",
        choices=Referral.TransplantEligibility.choices,
        initial=Referral.TransplantEligibility.UNKNOWN,
        help_text=TRANSPLANT_HELP,
    )
    performance_status = forms.TypedChoiceField(
        label="ECOG performance status", choices=[("", "Choose"), *ECOG_CHOICES], coerce=int
    )
    urgency = forms.ChoiceField(label="Urgency", choices=Referral.Urgency.choices, initial=Referral.Urgency.ROUTINE)
    reason = forms.CharField(
        label="Reason for referral", max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )

    def offer(self, practices: list[Site]) -> None:
        """The choices: the academic centers, and the physicians of `practices`."""
        self.fields["to_center"].queryset = sites_directory().filter(  # type: ignore[attr-defined]
            kind=Site.Kind.ACADEMIC_CENTER
        )
        self.fields["referring_physician"].queryset = _physicians_at(practices)  # type: ignore[attr-defined]

    def referral_fields(self) -> dict[str, Any]:
        """The referral's own clinical fields, as the services take them."""
        return {name: self.cleaned_data[name] for name in REFERRAL_FIELDS}


class ReferralForm(ReferralFieldsForm):
    """A new referral from a community practice, for an existing or a new patient."""

    EXISTING = "existing"
    NEW = "new"
    # The patient and the practice first, then the referral's own fields (`ReferralFieldsForm`).
    field_order = [
        "patient_mode",
        "patient",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "mrn",
        *CAREGIVER_FIELDS,
        "primary_point_person",
        "backup_point_person",
        "from_site",
    ]

    patient_mode = forms.ChoiceField(
        label="Patient",
        choices=[(EXISTING, "A patient of my practice"), (NEW, "A new patient")],
        initial=EXISTING,
        widget=forms.RadioSelect,
    )
    patient = PatientChoiceField(
        label="Existing patient", queryset=Patient.objects.none(), required=False, empty_label="Choose a patient"
    )
    given_name = forms.CharField(label="Given name", max_length=100, required=False)
    family_name = forms.CharField(label="Family name", max_length=100, required=False)
    date_of_birth = forms.DateField(
        label="Date of birth", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sex = forms.ChoiceField(label="Sex", choices=[("", "Choose"), *Patient.Sex.choices], required=False)
    mrn = forms.CharField(label="MRN at your practice", max_length=64, required=False)
    caregiver_name = forms.CharField(label="Caregiver name", max_length=200, required=False)
    caregiver_relationship = forms.CharField(label="Caregiver relationship", max_length=100, required=False)
    caregiver_phone = PhoneField(label="Caregiver phone", required=False)
    primary_point_person = PersonChoiceField(
        label="Primary point person at your practice",
        queryset=User.objects.none(),
        required=False,
        empty_label="Choose",
        help_text="Same-day toxicity alerts about the patient go to them.",
    )
    backup_point_person = PersonChoiceField(
        label="Backup point person", queryset=User.objects.none(), required=False, empty_label="No backup"
    )

    from_site = forms.ModelChoiceField(label="Referring practice", queryset=Site.objects.none(), empty_label=None)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.practices = referring_practices(active_memberships_of(user))
        self.open_referral: Referral | None = None
        self.fields["patient"].queryset = referable_patients(user, self.practices)  # type: ignore[attr-defined]
        self.fields["from_site"].queryset = Site.objects.filter(  # type: ignore[attr-defined]
            pk__in=[s.pk for s in self.practices]
        )
        self.offer(self.practices)
        # Required by `clean` in the part of the form they stand in (shown for one patient mode).
        for name in ("patient", *NEW_PATIENT_REQUIRED):
            self.fields[name].required_when_shown = True  # type: ignore[attr-defined]
            self.fields[name].widget.attrs["aria-required"] = "true"
        people = [person.pk for site in self.practices for person in people_who_can_act_at(site)]
        # Each offered with their role, and the practice when the user refers from several.
        roles = roles_of_people_at(self.practices, name_site=len(self.practices) > 1)
        for name in ("primary_point_person", "backup_point_person"):
            self.fields[name].queryset = User.objects.filter(pk__in=people).order_by("full_name")  # type: ignore[attr-defined]
            self.fields[name].roles = roles  # type: ignore[attr-defined]
        own_pending = PendingUpload.objects.usable_by(user)
        for kind, label in document_choices():
            self.fields[document_field_name(kind)] = forms.FileField(
                label=label, required=False, help_text=f"Optional. {ACCEPTED}."
            )
            # Another user's id, or one the cleanup took, is not among the choices: refused.
            self.fields[pending_field_name(kind)] = forms.ModelChoiceField(
                queryset=own_pending,
                required=False,
                widget=forms.HiddenInput,
                error_messages={"invalid_choice": PENDING_GONE},
            )
            self.fields[remove_field_name(kind)] = forms.BooleanField(label="Remove", required=False)
        # Files kept for the re-shown form, by kind (`keep_uploads`).
        self.attached: dict[str, PendingUpload] = {}

    def document_rows(self) -> list[DocumentRow]:
        chosen = self["disease_area"].value()
        patient = self.patient_on_file()
        records = records_on_file(patient.pk) if patient else {}
        return [
            DocumentRow(
                field=self[document_field_name(kind)],
                attached=self.attached.get(kind),
                pending_name=pending_field_name(kind),
                remove_name=remove_field_name(kind),
                needs=[Need(disease, label, what, disease == chosen) for disease, label, what in needs],
                records=tuple(records.get(kind, ())),
                patient_name=patient.full_name if patient else "",
            )
            for kind, needs in needs_by_disease().items()
        ]

    def patient_on_file(self) -> Patient | None:
        """The existing patient the form is for, as far as it knows: chosen in advance, or
        posted and valid; whose records are on file for the checklist."""
        if self.is_bound:
            data = getattr(self, "cleaned_data", {})
            patient: Patient | None = data.get("patient") if data.get("patient_mode") == self.EXISTING else None
            return patient
        chosen = self.initial.get("patient")
        return self.fields["patient"].queryset.filter(pk=chosen).first() if chosen else None  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("patient_mode") == self.NEW:
            for name in NEW_PATIENT_REQUIRED:
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "This field is required for a new patient.")
        elif data.get("patient_mode") == self.EXISTING and not data.get("patient") and "patient" not in self.errors:
            self.add_error("patient", "Choose the patient, or enter a new patient.")
        # Refuse a bad file before anything is written, each by its own checklist item, in the
        # same round as every other error.
        for kind in ReferralDocument.Kind.values:
            name = document_field_name(kind)
            if pending_field_name(kind) in self.errors:
                # The hidden id is nobody's field to correct: the error goes on the file input.
                del self.errors[pending_field_name(kind)]
                if name not in self.errors:
                    self.add_error(name, PENDING_GONE)
            upload = data.get(name)
            if upload:
                try:
                    validate_upload(upload)
                except ValidationError as exc:
                    self.add_error(name, _messages(exc))
        return data

    def patient_to_refer(self) -> Patient | NewPatient:
        """The chosen patient, or the new one to register with the referral."""
        data = self.cleaned_data
        if data["patient_mode"] != self.NEW:
            patient: Patient = data["patient"]
            return patient
        patient_fields = {name: data[name] for name in ("given_name", "family_name", "date_of_birth", "sex")}
        patient_fields |= {name: data[name] for name in CAREGIVER_FIELDS if data[name]}
        patient_fields["disease_area"] = data["disease_area"]
        return NewPatient(
            fields=patient_fields,
            mrn=data["mrn"],
            point_persons={
                PointPerson.Rank.PRIMARY: data["primary_point_person"],
                PointPerson.Rank.BACKUP: data["backup_point_person"],
            },
        )

    def uploads(self) -> dict[str, UploadedFile]:
        """The files to attach, by checklist kind, in checklist order: a file chosen now, else
        the one kept from an earlier round (unless removed)."""
        uploads: dict[str, UploadedFile] = {}
        for kind in ReferralDocument.Kind.values:
            upload, pending = self._chosen(kind), self._kept(kind)
            if upload:
                uploads[kind] = upload
            elif pending:
                uploads[kind] = as_upload(pending)
        return uploads

    def keep_uploads(self) -> None:
        """The form failed: store the valid files chosen this round, so the re-shown form lists
        them and the next round attaches them; forget the ones replaced or removed."""
        dropped: list[PendingUpload] = []
        for kind in ReferralDocument.Kind.values:
            upload, pending = self._chosen(kind), self._kept(kind)
            if upload and document_field_name(kind) not in self.errors:
                if pending:
                    dropped.append(pending)
                self.attached[kind] = pending_upload_keep(owner=self.user, upload=upload)
            elif pending:
                self.attached[kind] = pending
            if self._removed(kind) and self._posted_pending(kind):
                dropped.append(self._posted_pending(kind))  # type: ignore[arg-type]
        pending_uploads_discard(dropped)

    def discard_pending(self) -> None:
        """The referral saved: the kept files now live as its documents (or were removed)."""
        posted = (self._posted_pending(kind) for kind in ReferralDocument.Kind.values)
        pending_uploads_discard([pending for pending in posted if pending])

    def close_pending(self) -> None:
        for kind in ReferralDocument.Kind.values:
            pending = self._posted_pending(kind)
            if pending:
                pending.file.close()

    def _chosen(self, kind: str) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get(document_field_name(kind))
        return upload or None

    def _posted_pending(self, kind: str) -> PendingUpload | None:
        pending: PendingUpload | None = self.cleaned_data.get(pending_field_name(kind))
        return pending

    def _removed(self, kind: str) -> bool:
        return bool(self.cleaned_data.get(remove_field_name(kind)))

    def _kept(self, kind: str) -> PendingUpload | None:
        return None if self._removed(kind) else self._posted_pending(kind)

    def add_start_error(self, error: ValidationError) -> None:
        """A refusal of `referral_start`, put on the field it names (a refused file on its own)."""
        self._apply(error, file_field=document_field_name(error.kind) if isinstance(error, DocumentRefused) else "")

    def _apply(self, error: ValidationError, *, file_field: str) -> None:
        # add_error drops the field from cleaned_data, so look for the open referral first.
        if hasattr(error, "error_dict") and "to_center" in error.error_dict:
            self.open_referral = self._find_open_referral()
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for key, messages in error.message_dict.items():
            if key in ("file", "kind") and file_field:
                name: str | None = file_field
            elif key == "move":
                name = None
            else:
                name = SERVICE_KEY_TO_FIELD.get(key, key)
            if name is not None and name not in self.fields:
                messages = [f"{key.replace('_', ' ').capitalize()}: {m}" for m in messages]
                name = None
            self.add_error(name, messages)

    def _find_open_referral(self) -> Referral | None:
        patient, center = self.cleaned_data.get("patient"), self.cleaned_data.get("to_center")
        if self.cleaned_data.get("patient_mode") != self.EXISTING or patient is None or center is None:
            return None
        return (
            referrals_visible_to(self.user)
            .filter(patient=patient, to_center=center, state__in=[s.value for s in OPEN_STATES])
            .first()
        )


class ReferralDraftForm(ReferralFieldsForm):
    """A draft corrected by its practice before it is submitted: the fields of a new referral,
    its patient and practice kept (another patient or practice is another referral). Its
    documents are added on the referral page, as for any open referral."""

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "to_center": referral.to_center_id,
                "referring_physician": referral.referring_physician_id,
                **{name: getattr(referral, name) for name in REFERRAL_FIELDS},
            },
        )
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.offer([referral.from_site])
        self.fields["disease_area"].help_text = ""  # the patient's own is changed on the patient page


def _messages(error: ValidationError) -> list[str]:
    return (
        [m for messages in error.message_dict.values() for m in messages]
        if hasattr(error, "error_dict")
        else error.messages
    )


class MoveForm(PageForm):
    """One move of the workflow; the service decides whether the viewer's side may make it."""

    move = forms.ChoiceField(choices=[(m.value, m.value.replace("_", " ")) for m in Move])
    consult_on = forms.DateField(label="Consult date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    decline_reason = forms.CharField(
        label="Reason for declining",
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    def consult_date(self) -> dt.date | None:
        value = self.cleaned_data.get("consult_on")
        return value if isinstance(value, dt.date) else None


class DocumentForm(PageForm):
    """One more checklist document for an open referral."""

    kind = forms.ChoiceField(label="Checklist item", choices=[("", "Choose"), *document_choices()])
    file = forms.FileField(label="File", help_text=f"{ACCEPTED}.")


class PlanForm(PageForm):
    """The center's treatment plan: the product (its monitoring rules) and the hand-back day."""

    product = forms.ModelChoiceField(
        label="CAR-T product",
        queryset=Product.objects.filter(is_active=True),
        required=False,
        empty_label="Not chosen yet",
    )
    hand_back_day = forms.IntegerField(
        label="Planned hand-back (day after infusion)",
        min_value=1,
        max_value=90,
        initial=21,
        help_text="Typically day +14 to +30.",
    )
