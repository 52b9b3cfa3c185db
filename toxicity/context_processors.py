"""The number of the user's unacknowledged alerts, for the header badge on every page."""

from __future__ import annotations

from django.http import HttpRequest

from toxicity.selectors import alerts_visible_to


def open_alerts(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"open_alert_count": alerts_visible_to(user).unacknowledged().count()}
