"""What hand-offs contribute to the combined pages: the digest's hand-offs not acknowledged in
time. Registered in `HandoffsConfig.ready`."""

from __future__ import annotations

from carecoord.digest_sections import DigestScope, DigestSection, SectionRead, register_digest_section
from handoffs.models import Handoff


def digest_handoffs_overdue(scope: DigestScope) -> SectionRead:
    """Hand-offs sent to the reader's sites and not acknowledged by their deadline, in one query."""
    handoffs = (
        Handoff.objects.acknowledgement_overdue(scope.now)
        .filter(scope.of_patients(), to_site__in=scope.site_ids)
        .order_by("acknowledge_by")
        .values_list("patient_id", "acknowledge_by")
    )
    return SectionRead(
        overdue=[
            (patient_id, f"Hand-off not acknowledged, due {scope.site_day_text(acknowledge_by)}")
            for patient_id, acknowledge_by in handoffs
        ]
    )


def register_handoffs_contributions() -> None:
    register_digest_section(DigestSection(name="hand-offs overdue", order=40, read=digest_handoffs_overdue))
