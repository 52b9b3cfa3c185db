"""`Idempotency-Key` on the API's writes: a retried request is answered, not made twice.

A client that sends the header on a POST, PUT, PATCH or DELETE gets, for the same key again
(same person, same method, path and body), the answer the first request got, with the header
`Idempotent-Replayed: true`; the write is made once. The same key with another request is 422;
a twin still being processed is 409 (try again in a moment). Without the header nothing changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.models import IdempotentRequest, User

HEADER = "Idempotency-Key"
KEEP = dt.timedelta(hours=24)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__({HEADER: ["This key was used for another request; use a new key for a new request."]})


class Replay(exceptions.APIException):
    """Raised to answer with the stored response instead of running the view."""

    def __init__(self, stored: IdempotentRequest) -> None:
        super().__init__()
        self.stored = stored


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    try:
        digest.update(request.body)
    except RequestDataTooBig:  # a large upload: its length and type stand for it
        digest.update(f"{request.content_type} {request.META.get('CONTENT_LENGTH', '')}".encode())
    return digest.hexdigest()


class IdempotentWritesMixin(APIView):
    """Honours `Idempotency-Key` on the view's writes (see the module)."""

    _idempotent: IdempotentRequest | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication and permissions come first
        key = request.headers.get(HEADER, "").strip()
        if not key or request.method not in WRITES or not isinstance(request.user, User):
            return
        if len(key) > 200:
            raise exceptions.ValidationError({HEADER: ["Use a key of at most 200 characters."]})
        fingerprint = _fingerprint(request)
        stored = IdempotentRequest.objects.filter(
            user=request.user, key=key, created_at__gte=timezone.now() - KEEP
        ).first()
        if stored is None:
            IdempotentRequest.objects.filter(user=request.user, key=key).delete()  # an expired one
            try:
                with transaction.atomic():
                    self._idempotent = IdempotentRequest.objects.create(
                        user=request.user, key=key, fingerprint=fingerprint
                    )
                return
            except IntegrityError:  # a twin took the key a moment ago
                stored = IdempotentRequest.objects.get(user=request.user, key=key)
        if stored.status_code is not None and stored.fingerprint != fingerprint:
            raise KeyReused()
        raise Replay(stored)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Replay):
            if exc.stored.status_code is None:
                return Response(
                    {"detail": "A request with this Idempotency-Key is still being processed; try again shortly."},
                    status=status.HTTP_409_CONFLICT,
                )
            return Response(exc.stored.response, status=exc.stored.status_code, headers={"Idempotent-Replayed": "true"})
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        stored, self._idempotent = self._idempotent, None
        if stored is not None:
            if response.status_code >= 500:
                stored.delete()  # not an answer worth repeating: the retry runs again
            else:
                IdempotentRequest.objects.filter(pk=stored.pk).update(
                    status_code=response.status_code, response=getattr(response, "data", None)
                )
        return response


def forget_old_keys(now: dt.datetime | None = None) -> int:
    """Delete the keys older than a day (beat, hourly)."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=(now or timezone.now()) - KEEP).delete()
    return deleted
