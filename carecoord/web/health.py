"""`/health/`: for a load balancer and monitoring. No sign-in, no patient data, never cached."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from carecoord.health import health_report


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis, a worker on each queue and alert delivery are all fine,
    503 otherwise; the body says which check failed."""
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)
