"""Who may see and change which patient: the one access path for every view, API and task."""

from carecoord.access.scope import (
    capabilities_by_patient,
    get_patient_for_user,
    patient_capabilities,
    patients_visible_to,
    require_capability,
)

__all__ = [
    "capabilities_by_patient",
    "get_patient_for_user",
    "patient_capabilities",
    "patients_visible_to",
    "require_capability",
]
