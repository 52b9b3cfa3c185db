"""Who may see and change which patient: the one access path for every view, API and task."""

from carecoord.access.acting import (
    ActingSite,
    acting_capabilities,
    acting_site_for,
    acting_sites,
    membership_at,
    require_acting_site,
    sites_that_can,
)
from carecoord.access.scope import (
    capabilities_by_patient,
    get_patient_for_user,
    get_visible_or_404,
    patient_capabilities,
    patients_visible_to,
    require_capability,
    visible_among,
    visible_patient_count,
    visible_patient_ids,
)

__all__ = [
    "ActingSite",
    "acting_capabilities",
    "acting_site_for",
    "acting_sites",
    "capabilities_by_patient",
    "get_patient_for_user",
    "get_visible_or_404",
    "membership_at",
    "patient_capabilities",
    "patients_visible_to",
    "require_acting_site",
    "require_capability",
    "sites_that_can",
    "visible_among",
    "visible_patient_count",
    "visible_patient_ids",
]
