"""The dashboard's patient list: what the viewer asks of it (find, filter, sort) and its compact
rows, one line a patient, read in a fixed number of queries whatever the number of patients.

Search words travel in the body of a POST, never in the address: names and MRNs in query strings
end up in server and proxy logs. The filters that say nothing about a patient (phase, site,
point person, "needs my action", sort, page) may be in the address, so a filtered list can be
bookmarked and the back button restores it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from candidates.matching import Standing
from candidates.standings import standing_patient_ids, standings_of
from carecoord.access import visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson, Site, User
from carecoord.models.patients import Phase
from carecoord.selectors.patients import patients_matching, sites_without_primary
from carecoord.web.list_forms import ListForm, lazy_choices, patient_search_field
from carecoord.web.row_urls import row_url
from carecoord.work_queue import QueueScope, queue_lists
from referrals.day_zero import course_day, day_zero_subquery, infusion_by_patient
from referrals.selectors import NextStep, next_steps
from toxicity.selectors import open_alert_counts

ME = "me"


class Sort:
    NAME = "name"
    PHASE = "phase"
    INFUSION = "infusion"
    CHOICES = [
        (NAME, "Name"),
        (PHASE, "Phase, along the path"),
        (INFUSION, "Infusion, most recent first"),
    ]


# The filters the address may carry (not the search words: see the module's note).
ADDRESS_FIELDS = ("phase", "site", "point_person", "needs_action", "candidates", "sort")

# The "CAR-T candidates" filter: advisory prompts (candidates.matching), never a gate.
CANDIDATE_CHOICES = [
    ("", "Anyone"),
    ("any", "Candidates or approaching"),
    (Standing.MEETS.value, "Meets a labelled use"),
    (Standing.APPROACHING.value, "One step from one"),
]


class PatientListForm(ListForm):
    """What the viewer asks of the patient list."""

    address_fields = ADDRESS_FIELDS
    defaults = {"sort": Sort.NAME}

    q = patient_search_field()
    phase = forms.ChoiceField(label="Phase", required=False, choices=[("", "All phases"), *Phase.choices])
    site = forms.TypedChoiceField(label="Care-team site", required=False, coerce=int, empty_value=None)
    point_person = forms.ChoiceField(label="Point person", required=False)
    needs_action = forms.BooleanField(label="Needs my action", required=False)
    candidates = forms.ChoiceField(label="CAR-T candidates", required=False, choices=CANDIDATE_CHOICES)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=Sort.CHOICES)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        *,
        sites: Callable[[], Iterable[tuple[int, str]]],
        people: Callable[[], Iterable[tuple[int, str]]],
        **kwargs: Any,
    ) -> None:
        """`sites` and `people` read the filters' (id, name) choices when the form needs them."""
        super().__init__(data, **kwargs)
        self.fields["site"].choices = lazy_choices(lambda: [("", "Any site"), *sites()])  # type: ignore[attr-defined]
        self.fields["point_person"].choices = lazy_choices(  # type: ignore[attr-defined]
            lambda: [("", "Anyone"), (ME, "Me"), *((str(pk), name) for pk, name in people())]
        )


def sites_of_patients(user: AnyUser) -> QuerySet[Site, tuple[int, str]]:
    """The sites on the open care teams of the viewer's patients, (id, name): the site filter's
    choices."""
    links = CareTeamLink.objects.open().filter(patient_id__in=visible_patient_ids(user)).values("site_id")
    return Site.objects.filter(pk__in=links).order_by("name").values_list("pk", "name")


def point_persons_at(site_ids: list[int]) -> QuerySet[User, tuple[int, str]]:
    """The people named point persons at the viewer's sites, (id, name): the point-person
    filter's choices."""
    named = PointPerson.objects.open().filter(link__site_id__in=site_ids).values("user_id")
    return User.objects.filter(pk__in=named, is_active=True).order_by("full_name", "pk").values_list("pk", "full_name")


def needing_action(scope: QueueScope) -> Q:
    """The patients with work in any of the viewer's work-queue lists (each list's own rule)."""
    conditions = [Q(pk__in=entry.patients(scope)) for entry in queue_lists() if entry.patients is not None]
    condition = Q()
    for each in conditions:
        condition |= each
    return condition


def _phase_order() -> Case:
    return Case(
        *(When(phase=phase, then=Value(index)) for index, phase in enumerate(Phase)),
        default=Value(len(Phase)),
        output_field=IntegerField(),
    )


def filtered_patients(
    patients: QuerySet[Patient], asked: Mapping[str, Any], *, user: AnyUser, scope: QueueScope
) -> QuerySet[Patient]:
    """`patients` (already the viewer's) narrowed and ordered as `asked` (`PatientListForm.asked`)."""
    if asked.get("q"):
        patients = patients_matching(patients, asked["q"])
    if asked.get("phase"):
        patients = patients.filter(phase=asked["phase"])
    if asked.get("site"):
        on_team = CareTeamLink.objects.open().filter(site_id=asked["site"]).values("patient_id")
        patients = patients.filter(pk__in=on_team)
    if asked.get("point_person"):
        person = str(user.pk) if asked["point_person"] == ME else str(asked["point_person"])
        named = PointPerson.objects.open().filter(user_id=person).values("link__patient_id")
        patients = patients.filter(pk__in=named)
    if asked.get("needs_action"):
        patients = patients.filter(needing_action(scope))
    if asked.get("candidates"):
        standing = "" if asked["candidates"] == "any" else asked["candidates"]
        patients = patients.filter(pk__in=standing_patient_ids(standing))
    by_name = ("family_name", "given_name", "id")
    if asked.get("sort") == Sort.PHASE:
        return patients.alias(phase_order=_phase_order()).order_by("phase_order", *by_name)
    if asked.get("sort") == Sort.INFUSION:
        return patients.alias(day_zero=day_zero_subquery("pk")).order_by(F("day_zero").desc(nulls_last=True), *by_name)
    return patients.order_by(*by_name)


@dataclass(frozen=True)
class PatientListRow:
    """One line of the list: who, their MRNs, where they stand, what comes next, what is open."""

    patient: Patient
    own_mrns: list[str]  # at the viewer's sites
    other_mrns: list[PatientIdentifier]  # at the other sites, with the site
    day: str  # "day +12" from the infusion, the infusion not recorded (`course_day`), or ""
    next_step: NextStep | None
    next_overdue: bool
    open_alerts: int  # events with an alert nobody has acknowledged
    without_primary: list[str]  # care-team sites naming no primary point person
    candidate: Standing | None  # meets a labelled use, or one step from one (advisory)
    candidate_products: list[str]
    url: str  # the patient page
    timeline_url: str
    contacts_url: str  # the point persons, loaded when asked
    infusion_unrecorded: bool = False  # `day` says the infusion's planned day passed unrecorded


def patient_rows(patients: list[Patient], *, own_site_ids: set[int], today: dt.date) -> list[PatientListRow]:
    """The rows of one page of patients (identifiers prefetched), in six queries whatever its size."""
    ids: list[uuid.UUID] = [patient.pk for patient in patients]
    if not ids:
        return []
    infusions = infusion_by_patient(ids)
    steps = next_steps(ids)
    alerts = open_alert_counts(ids)
    unnamed = sites_without_primary(ids)
    candidates = standings_of(ids)
    page_url = row_url("patient-detail", "patient_id", ids[0])
    timeline_url = row_url("patient-timeline", "patient_id", ids[0])
    contacts_url = row_url("patient-contacts", "patient_id", ids[0])
    rows = []
    for patient in patients:
        # Set by the prefetch's to_attr (`identifiers_with_sites`), which the model cannot declare.
        identifiers: list[PatientIdentifier] = patient.listed_identifiers  # type: ignore[attr-defined]
        step = steps.get(patient.pk)
        day = course_day(infusions.get(patient.pk), today)
        candidate, products = candidates.get(patient.pk, (None, []))
        rows.append(
            PatientListRow(
                patient=patient,
                own_mrns=[i.mrn for i in identifiers if i.site_id in own_site_ids],
                other_mrns=[i for i in identifiers if i.site_id not in own_site_ids],
                day=day.text,
                next_step=step,
                next_overdue=bool(step and step.is_overdue(today)),
                open_alerts=alerts.get(patient.pk, 0),
                without_primary=unnamed.get(patient.pk, []),
                candidate=candidate,
                candidate_products=products,
                url=page_url(patient.pk),
                timeline_url=timeline_url(patient.pk),
                contacts_url=contacts_url(patient.pk),
                infusion_unrecorded=day.unrecorded,
            )
        )
    return rows
