"""The number of the user's unacknowledged alerts, for the header badge on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from toxicity.selectors import waiting_alert_count


def open_alerts(request: HttpRequest) -> dict[str, Any]:
    """Counted when a template shows it, once: not for an htmx partial, which has no header,
    nor where the view has the count already (the work queue's own page, `/work/`, counts them
    as it reads them: `toxicity.contributions.shared_alert_count`)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"open_alert_count": SimpleLazyObject(lambda: waiting_alert_count(user))}
