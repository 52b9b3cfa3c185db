"""References between the exported resources, and the small elements they share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.models import Site, User
from fhir_api import codes


def ref(resource_type: str, resource_id: object, display: str = "") -> dict[str, Any]:
    """A literal reference to another exported resource (`Task/12`)."""
    reference: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        reference["display"] = display
    return reference


def site_ref(site: Site) -> dict[str, Any]:
    return ref("Organization", site.pk, site.name)


def person_ref(user: User | None) -> dict[str, Any]:
    """A person who acted: carecoord's user id as a logical identifier, and their name.

    People are exported as Practitioners only where they are a point person (contained in a
    PractitionerRole); everyone else who acts is named, not listed."""
    if user is None:
        return {"display": "carecoord (system)"}
    return {"identifier": {"system": codes.USER_ID_SYSTEM, "value": str(user.pk)}, "display": str(user)}


def concept(system: str, code: str, display: str, text: str = "") -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": text or display}


def instant(moment: dt.datetime) -> str:
    """A moment as FHIR writes it: UTC, to the second or finer, with its zone."""
    return moment.astimezone(dt.UTC).isoformat()
