"""What every page needs: the viewer's zone, the actor, htmx requests, loading a visible object."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence

from carecoord.models import SiteMembership


def viewer_zone(memberships: Sequence[SiteMembership]) -> zoneinfo.ZoneInfo:
    """Times are shown in the time zone of the viewer's first active site, else UTC."""
    return memberships[0].site.zone if memberships else zoneinfo.ZoneInfo("UTC")
