"""`{% patient_list_row %}`: the patient list's line written in Python, every value escaped as
`{{ }}` escapes it and every date as the `date` filter writes it, each branch of the line."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

from carecoord.models import Patient
from carecoord.models.patients import Phase
from referrals.selectors import NextStep
from workspace.patient_list import PatientListRow
from workspace.templatetags.patient_list_row import patient_list_row


def row(**changes: Any) -> PatientListRow:
    patient = Patient(id=uuid.uuid4(), given_name="Ada", family_name="Lovelace", phase=Phase.MONITORING)
    for name, value in changes.pop("patient", {}).items():
        setattr(patient, name, value)
    fields: dict[str, Any] = {
        "patient": patient,
        "own_mrns": [],
        "other_mrns": [],
        "day": "",
        "next_step": None,
        "next_overdue": False,
        "open_alerts": 0,
        "without_primary": [],
        "candidate": None,
        "candidate_products": [],
        "url": "/patients/1/",
        "timeline_url": "/patients/1/timeline/",
        "contacts_url": "/patients/1/contacts/",
    }
    return PatientListRow(**(fields | changes))


def test_every_value_is_escaped() -> None:
    html = patient_list_row(
        row(
            patient={"family_name": "<script>O'Neil", "given_name": 'A "B" & C'},
            own_mrns=["<b>1</b>"],
            other_mrns=[SimpleNamespace(mrn="M&1", site=SimpleNamespace(name="St <Luke>"))],
            without_primary=["Site & <Co>"],
            candidate="meets",
            candidate_products=["<axi-cel>", "liso-cel"],
        )
    )
    assert "<script>" not in html and "<b>" not in html and "<Luke>" not in html and "<axi-cel>" not in html
    assert "&lt;script&gt;O&#x27;Neil, A &quot;B&quot; &amp; C" in html  # the name, in the link and the labels
    assert html.count("&lt;script&gt;O&#x27;Neil, A &quot;B&quot; &amp; C") == 3
    assert '<span class="mono nowrap">&lt;b&gt;1&lt;/b&gt;</span>' in html
    assert 'St &lt;Luke&gt;: <span class="mono nowrap">M&amp;1</span>' in html
    assert "No primary point person at Site &amp; &lt;Co&gt;" in html
    assert "CAR-T candidate: &lt;axi-cel&gt;, liso-cel" in html


def test_an_empty_line_says_so() -> None:
    html = patient_list_row(row())
    assert '<td role="cell" data-label="MRN"><span class="muted">—</span></td>' in html
    assert '<td role="cell" data-label="Phase"><span class="phase">Intensive monitoring</span></td>' in html
    assert '<td role="cell" data-label="Next step"><span class="muted">—</span></td>' in html
    assert '<td role="cell" data-label="Open alerts"><span class="muted">None</span></td>' in html
    assert "candidate" not in html.replace("#candidates", "") and "Overdue" not in html


def test_day_next_step_overdue_and_alerts() -> None:
    html = patient_list_row(
        row(
            day="day +12",
            next_step=NextStep("visit_day_30", dt.date(2026, 3, 5)),
            next_overdue=True,
            open_alerts=2,
            candidate="approaching",
            candidate_products=["cilta-cel"],
        )
    )
    assert ' <span class="small nowrap">day +12</span>' in html
    assert 'Follow-up visit, day 30 <time class="small nowrap" datetime="2026-03-05">5 Mar</time>' in html
    assert '</time> <span class="flag flag--overdue small">Overdue</span>' in html
    assert '<a class="flag flag--alert" href="/patients/1/timeline/">2 open</a>' in html
    assert "Approaching CAR-T: cilta-cel" in html


def test_an_infusion_not_recorded_is_flagged_not_counted() -> None:
    said = "Infusion planned for 11 Jan 2027, not recorded as done"
    html = patient_list_row(row(day=said, infusion_unrecorded=True))
    flag = f'<span class="flag flag--overdue flag--sentence small">{said}</span>'
    assert f'<span class="phase">Intensive monitoring</span> {flag}' in html
    assert "nowrap" not in html.split('data-label="Phase"')[1].split("</td>")[0]


def test_a_death_replaces_the_phase() -> None:
    html = patient_list_row(row(patient={"died_on": dt.date(2026, 1, 9)}, day="day +40"))
    assert '<span class="flag small">Died 9 Jan 2026</span>' in html
    assert "day +40" not in html and 'class="phase"' not in html
