"""What every FHIR request is checked for before anything is read: the method, the format
asked for, and who is calling (an API token, or a browser session past its second factor)."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.request import Request

from carecoord.api.authentication import ApiTokenAuthentication, VerifiedSessionAuthentication
from carecoord.models import User
from fhir_api.answers import Refusal
from fhir_api.codes import FHIR_JSON
from referrals.documents import max_upload_bytes

READ_METHODS = ("GET", "HEAD")
# `_format` values and Accept media types answered: FHIR JSON only.
JSON_FORMATS = frozenset({"json", "application/json", FHIR_JSON, "application/json+fhir"})
ACCEPTED_MEDIA = JSON_FORMATS | {"*/*", "application/*"}
# As the API answers an anonymous call: how to authenticate.
CHALLENGE = {"WWW-Authenticate": "Token"}


def check_method(request: HttpRequest) -> None:
    if request.method not in READ_METHODS:
        raise Refusal(405, "not-supported", "This FHIR endpoint is read-only.", {"Allow": ", ".join(READ_METHODS)})


def check_post(request: HttpRequest) -> None:
    if request.method != "POST":
        raise Refusal(405, "not-supported", "Send a transaction Bundle with POST.", {"Allow": "POST"})


def check_media(request: HttpRequest) -> None:
    """The body must say it is FHIR JSON (checked once the sender may send at all: someone who
    may not refer learns that first, whatever they sent)."""
    media = (request.content_type or "").lower()
    if media not in JSON_FORMATS:
        raise Refusal(415, "not-supported", "Send the Bundle as FHIR JSON (Content-Type: application/fhir+json).")


def bundle_max_bytes() -> int:
    """The largest Bundle taken: twice the size limit of one document, its PDFs in base64 and
    the resources around them included."""
    return 2 * max_upload_bytes()


def read_body(request: HttpRequest) -> bytes:
    """The posted Bundle, read at most to its limit (Django's limit for bodies held in memory
    is for forms; a Bundle carries its documents)."""
    limit = bundle_max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    body = request.read(limit + 1) if declared <= limit else b""
    if declared > limit or len(body) > limit:
        megabytes = limit // (1024 * 1024)
        raise Refusal(413, "too-costly", f"A Bundle is at most {megabytes} MB; send the other documents after it.")
    return body


def check_format(request: HttpRequest) -> None:
    """JSON only: another `_format` (XML, Turtle), or an Accept header with no JSON in it, is 406."""
    asked = request.GET.get("_format")
    if asked is not None and asked.split(";")[0].strip().lower() not in JSON_FORMATS:
        raise Refusal(406, "not-supported", "Only FHIR JSON (application/fhir+json) is served.")
    accept = request.headers.get("Accept", "")
    if accept and asked is None:
        media = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        if not media & ACCEPTED_MEDIA:
            raise Refusal(406, "not-supported", "Only FHIR JSON (application/fhir+json) is served.")


def caller(request: HttpRequest) -> User:
    """The person calling, by the API's own authentication classes (token first, then a verified
    session); the user is set on the request, so the audit trail names them."""
    api_request = Request(request, authenticators=[ApiTokenAuthentication(), VerifiedSessionAuthentication()])
    try:
        user = api_request.user
    except exceptions.PermissionDenied as exc:  # a session's write without its CSRF token
        raise Refusal(403, "forbidden", str(exc.detail)) from exc
    except exceptions.APIException as exc:
        raise Refusal(401, "login", str(exc.detail), CHALLENGE) from exc
    if not isinstance(user, User) or not user.is_active:
        raise Refusal(
            401, "login", "Sign in, or send an API token: Authorization: Token …", {"WWW-Authenticate": "Token"}
        )
    return user
