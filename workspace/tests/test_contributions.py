"""Each app registers its digest sections and work-queue lists; the combined pages keep their order."""

from __future__ import annotations

from carecoord.digest_sections import digest_sections
from carecoord.work_queue import Slot, queue_lists


def test_the_digest_sections_come_in_their_fixed_order() -> None:
    # A patient's overdue lines: milestones, then alerts, hand-offs and referrals.
    assert [section.name for section in digest_sections()] == [
        "active toxicities",
        "referral steps",
        "recent events",
        "milestones",
        "unacknowledged alerts",
        "prophylaxis and vaccines due",
        "hand-offs overdue",
        "referrals waiting",
    ]


def test_the_work_queue_lists_come_in_their_slots_and_order() -> None:
    lists = queue_lists()
    assert [(entry.slot, entry.name) for entry in lists] == [
        (Slot.NOTICE, "undelivered"),
        (Slot.URGENT, "alerts"),
        (Slot.URGENT, "lab_flags"),
        (Slot.URGENT, "manufacturer reports"),
        (Slot.URGENT, "unnamed"),
        (Slot.URGENT, "conflicts"),
        (Slot.LISTS, "waiting"),
        (Slot.LISTS, "handoffs"),
        (Slot.LISTS, "overdue"),
        (Slot.LISTS, "milestones_due"),
        (Slot.LISTS, "prevention_due"),
    ]
    # The first object shown of a patient is the read the audit trail records: this order is part of it.
    by_read = sorted(lists, key=lambda entry: entry.read_order)
    assert [entry.name for entry in by_read] == [
        "undelivered",
        "alerts",
        "lab_flags",
        "manufacturer reports",
        "unnamed",
        "conflicts",
        "milestones_due",
        "prevention_due",
        "waiting",
        "handoffs",
        "overdue",
    ]
