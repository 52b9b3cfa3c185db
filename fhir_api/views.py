"""The FHIR endpoints: the CapabilityStatement, `Patient/{id}/$everything`, a resource by type
and id, a type's resources searched by patient, and the referral intake (`POST Bundle`).

Thin: check the request (`fhir_api.requests`), find the patient through the one access path,
declare the read for the audit trail, load the record and build. Every refusal is an
OperationOutcome; a patient out of the caller's scope is 404, as on the pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from carecoord.access import get_patient_for_user
from carecoord.models import Patient, Site, User
from carecoord.reads import shown
from fhir_api.answers import Refusal, fhir_response, issues_response, not_found, outcome_response
from fhir_api.build_people import organization_resource
from fhir_api.capability import capability_statement
from fhir_api.export import resources_of
from fhir_api.intake import BundleRefused, read_bundle
from fhir_api.lookup import PATIENT_OF
from fhir_api.record import PatientRecord, patient_record
from fhir_api.requests import caller, check_format, check_media, check_method, check_post, read_body
from fhir_api.services import intake_practices, referral_intake
from fhir_api.transaction import transaction_response


def fhir_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Checks the method and format first, then answers any refusal as an OperationOutcome."""

    @csrf_exempt  # read-only: every other method is refused before anything is read
    @wraps(view)
    def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            check_method(request)
            check_format(request)
            return view(request, *args, **kwargs)
        except Refusal as refusal:
            return outcome_response(refusal)

    return endpoint


def base_url(request: HttpRequest) -> str:
    """The server's FHIR base (where `metadata` is), absolute: what full URLs start with."""
    return request.build_absolute_uri(reverse("fhir-metadata").removesuffix("metadata"))


def visible_patient(user: User, patient_id: uuid.UUID | str) -> Patient:
    try:
        return get_patient_for_user(user, patient_id)
    except Http404 as exc:
        raise not_found() from exc


# The most entries one page holds, whatever `_count` asks (FHIR lets a server give fewer).
MAX_COUNT = 500


@dataclass(frozen=True)
class Page:
    """Which part of a searchset is asked for: `_count` entries (all when absent) from `_offset`."""

    count: int | None
    offset: int


def page_asked(request: HttpRequest) -> Page:
    """`_count` and `_offset` as asked; a value that is not a whole number, 0 or more, is 400."""
    values: dict[str, int | None] = {}
    for name in ("_count", "_offset"):
        raw = request.GET.get(name)
        if raw is not None and not (raw.isascii() and raw.isdigit()):
            raise Refusal(400, "invalid", f"{name} is a whole number, 0 or more.")
        values[name] = int(raw) if raw is not None else None
    count = values["_count"]
    return Page(count=min(count, MAX_COUNT) if count is not None else None, offset=values["_offset"] or 0)


def _page_url(request: HttpRequest, page: Page, offset: int) -> str:
    query = request.GET.copy()
    query["_count"] = str(page.count)
    query["_offset"] = str(offset)
    return f"{request.build_absolute_uri(request.path)}?{query.urlencode(safe='/$')}"


def _links(request: HttpRequest, page: Page, total: int) -> list[dict[str, str]]:
    """self, and with `_count` the first, previous, next and last pages (FHIR's paging links)."""
    links = [{"relation": "self", "url": request.build_absolute_uri()}]
    if page.count is None or page.count == 0:
        return links
    last = max(total - 1, 0) // page.count * page.count
    links.append({"relation": "first", "url": _page_url(request, page, 0)})
    if page.offset > 0:
        links.append({"relation": "previous", "url": _page_url(request, page, max(page.offset - page.count, 0))})
    if page.offset + page.count < total:
        links.append({"relation": "next", "url": _page_url(request, page, page.offset + page.count)})
    links.append({"relation": "last", "url": _page_url(request, page, last)})
    return links


def searchset(request: HttpRequest, resources: list[Resource], page: Page | None = None) -> Bundle:
    """The resources found as a searchset Bundle: `total` counts them all, `entry` holds the page
    asked for (all of them without `_count`), `link` leads to the other pages."""
    page = page or Page(count=None, offset=0)
    base = base_url(request)
    total = len(resources)
    end = None if page.count is None else page.offset + page.count
    resources = resources[page.offset : end]
    return Bundle.model_validate(
        {
            "type": "searchset",
            "total": total,
            "link": _links(request, page, total),
            "entry": [
                {
                    "fullUrl": f"{base}{resource.get_resource_type()}/{resource.id}",
                    "resource": resource,
                    "search": {"mode": "match"},
                }
                for resource in resources
            ]
            or None,
        }
    )


def record_for(patient: Patient, what: str) -> PatientRecord:
    """The patient's record, its read declared (written to the audit trail once answered 2xx)."""
    shown(patient, what=what)
    return patient_record(patient)


@fhir_endpoint
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: public, as FHIR clients read it before they authenticate."""
    return fhir_response(capability_statement(base_url(request)))


@fhir_endpoint
def everything(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """`Patient/{id}/$everything`: every resource of the patient's record, in one searchset."""
    user = caller(request)
    page = page_asked(request)
    patient = visible_patient(user, patient_id)
    record = record_for(patient, "FHIR export: Patient $everything")
    return fhir_response(searchset(request, resources_of(record, request.build_absolute_uri), page))


@fhir_endpoint
def read(request: HttpRequest, resource_type: str, id_prefix: str = "", **ids: int | uuid.UUID) -> HttpResponse:
    """`{Type}/{id}`: one resource, found in the record of the patient it belongs to."""
    user = caller(request)
    (value,) = ids.values()
    resource_id = f"{id_prefix}{value}"
    if resource_type == "Organization":
        site = Site.objects.filter(pk=resource_id).first()
        if site is None:
            raise not_found()
        return fhir_response(organization_resource(site))
    patient_id = PATIENT_OF[resource_type](resource_id)
    if patient_id is None:
        raise not_found()
    patient = visible_patient(user, patient_id)
    record = record_for(patient, f"FHIR read: {resource_type}")
    for resource in resources_of(record, request.build_absolute_uri, (resource_type,)):
        if resource.id == resource_id:
            return fhir_response(resource)
    raise not_found()


@fhir_endpoint
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    """`{Type}?patient={id}`: the patient's resources of that type, as a searchset. This server
    searches by patient only: without one the search is refused (400)."""
    user = caller(request)
    asked = request.GET.get("patient") or (request.GET.get("_id") if resource_type == "Patient" else None)
    if not asked:
        raise Refusal(400, "required", "Search by patient: give patient={id}.")
    page = page_asked(request)
    patient = visible_patient(user, asked.removeprefix("Patient/"))
    record = record_for(patient, f"FHIR search: {resource_type}")
    found = resources_of(record, request.build_absolute_uri, (resource_type,))
    return fhir_response(searchset(request, found, page))


@csrf_exempt  # an API token carries no cookie; a session is held to CSRF by its authentication
def bundle(request: HttpRequest) -> HttpResponse:
    """`POST Bundle`: a referral sent as a transaction Bundle by a practice's system becomes a
    draft referral (201), or finds the one the same bundle made before (200); the answer is a
    transaction-response Bundle naming each entry's resource. Refused whole, nothing saved."""
    try:
        user = caller(request)  # first: an anonymous caller learns nothing of what is taken
        check_post(request)
        check_format(request)
        practices = intake_practices(user)  # before the body is read
        check_media(request)
        incoming = read_bundle(read_body(request))
        result = referral_intake(actor=user, practices=practices, incoming=incoming)
    except Refusal as refusal:
        return outcome_response(refusal)
    except PermissionDenied as exc:
        return outcome_response(Refusal(403, "forbidden", str(exc) or "Your role does not allow this."))
    except BundleRefused as refused:
        return issues_response(refused.status, refused.issues)
    answer = transaction_response(result, incoming, base_url(request))
    response = fhir_response(answer, status=201 if result.created else 200)
    if result.created:
        response["Location"] = f"{base_url(request)}ServiceRequest/{result.referral.pk}"
    return response
