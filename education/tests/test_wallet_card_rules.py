"""The wallet card's wording, as plain rules: no database."""

from __future__ import annotations

import datetime as dt

from education.wallet_card import WalletCard

CARD = WalletCard(
    patient_name="Ada Lovelace",
    product="Carvykti (ciltacabtagene autoleucel)",
    day_zero=dt.date(2027, 1, 11),
    center="Lakeside CAR-T Center",
    center_phone="+1 555 100 2400",
    no_driving_until=dt.date(2027, 2, 8),
    stay_near_until=dt.date(2027, 1, 25),
)


def test_the_emergency_department_is_told_the_product_day_0_the_risks_tocilizumab_and_the_center() -> None:
    text = " ".join(CARD.emergency_lines())
    assert "CAR-T cell therapy, Carvykti (ciltacabtagene autoleucel), on 11 Jan 2027." in text
    assert "cytokine release syndrome" in text and "ICANS" in text
    assert "Tocilizumab must be available" in text
    assert "Lakeside CAR-T Center, +1 555 100 2400" in text


def test_restrictions_carry_their_end_dates_and_those_over_are_left_out() -> None:
    assert CARD.restriction_lines(dt.date(2027, 1, 20)) == [
        "No driving or operating heavy machinery until 08 Feb 2027.",
        "Stay within about 2 hours of the treating center until 25 Jan 2027.",
    ]
    assert CARD.restriction_lines(dt.date(2027, 2, 1)) == ["No driving or operating heavy machinery until 08 Feb 2027."]
    assert CARD.restriction_lines(dt.date(2027, 3, 1)) == []


def test_unknown_dates_and_center_say_whom_to_ask() -> None:
    card = WalletCard("Ada Lovelace", "", None, "", "", None, None)
    assert card.emergency_lines()[0] == "I received CAR-T cell therapy."
    assert "the treating CAR-T center" in card.emergency_lines()[-1]
    assert all("until the center says" in line for line in card.restriction_lines(dt.date(2027, 1, 1)))
