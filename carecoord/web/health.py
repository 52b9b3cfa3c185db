"""`/health/`: for a load balancer and monitoring. No sign-in, no patient data, never cached."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.log import log_response
from django.views.decorators.http import require_safe

from carecoord.health import health_report


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis, a worker on each queue and alert delivery are all fine,
    503 otherwise; the body says which check failed. A 503 while the workers are starting is
    logged as information, not as Django's error for a 5xx: nothing is wrong yet."""
    report = health_report()
    response = JsonResponse(report, status=200 if report["ok"] else 503)
    if report["status"] == "starting":
        log_response(
            "Starting, workers not heard from yet: %s", request.path, response=response, request=request, level="info"
        )
    return response
