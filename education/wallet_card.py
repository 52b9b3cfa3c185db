"""The patient's wallet card: what an emergency department needs to know, on one small page.

It carries the minimum (docs/clinical-rules.md#wallet-card): the patient's name, the product,
day 0, the treating center and its 24/7 number, what to tell the emergency department, and the
restrictions with their end dates. No date of birth, record number or diagnosis: a lost card
tells a finder nothing more than that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.template.loader import render_to_string

from carecoord.models import Patient
from carecoord.pdf import html_to_pdf
from carecoord.selectors.patients import treating_center_of
from referrals.day_zero import day_zero_of
from referrals.schedule import MilestoneKind
from referrals.selectors import course_milestone_on, treated_product


@dataclass(frozen=True)
class WalletCard:
    patient_name: str
    product: str  # "" when no product is recorded
    day_zero: dt.date | None
    center: str  # "" without a treating center on the care team
    center_phone: str
    no_driving_until: dt.date | None
    stay_near_until: dt.date | None

    def emergency_lines(self) -> list[str]:
        """What to tell an emergency department, in the order it matters."""
        therapy = f"CAR-T cell therapy, {self.product}," if self.product else "CAR-T cell therapy"
        given = f" on {self.day_zero:%d %b %Y}" if self.day_zero else ""
        call = f"{self.center}, {self.center_phone}" if self.center else "the treating CAR-T center"
        return [
            f"I received {therapy}{given}.",
            "I am at risk of cytokine release syndrome (fever, low blood pressure, low oxygen) and of "
            "neurologic toxicity, ICANS (confusion, trouble speaking or writing, drowsiness, seizures).",
            "Fever may mean infection with low blood counts: treat it as an emergency.",
            "Tocilizumab must be available where I am treated for CRS.",
            f"Call my CAR-T center at once, day or night: {call}.",
        ]

    def restriction_lines(self, today: dt.date) -> list[str]:
        """The restrictions still running on `today`, with their end dates; those unknown say so."""
        lines = []
        if self.no_driving_until is None or self.no_driving_until >= today:
            until = f"until {self.no_driving_until:%d %b %Y}" if self.no_driving_until else "until the center says"
            lines.append(f"No driving or operating heavy machinery {until}.")
        if self.stay_near_until is None or self.stay_near_until >= today:
            until = f"until {self.stay_near_until:%d %b %Y}" if self.stay_near_until else "until the center says"
            lines.append(f"Stay within about 2 hours of the treating center {until}.")
        return lines


def wallet_card_of(patient: Patient) -> WalletCard:
    """The card of a patient already loaded through the access path (a fixed number of queries)."""
    product = treated_product(patient.pk)
    center = treating_center_of(patient.pk)
    return WalletCard(
        patient_name=f"{patient.given_name} {patient.family_name}",
        product=f"{product.brand_name} ({product.generic_name})" if product else "",
        day_zero=day_zero_of(patient),
        center=center.name if center else "",
        center_phone=center.phone_24_7 if center else "",
        no_driving_until=course_milestone_on(patient.pk, MilestoneKind.NO_DRIVING_END),
        stay_near_until=course_milestone_on(patient.pk, MilestoneKind.STAY_NEAR_CENTER_END),
    )


def wallet_card_html(card: WalletCard, today: dt.date) -> str:
    """The card's printable page, `today` in the reader's site time (restrictions over are left out)."""
    return render_to_string(
        "education/wallet_card.html",
        {"card": card, "emergency": card.emergency_lines(), "restrictions": card.restriction_lines(today)},
    )


def wallet_card_pdf(card: WalletCard, today: dt.date) -> bytes:
    """The card as a PDF (`wallet_card_html`)."""
    return html_to_pdf(wallet_card_html(card, today))
