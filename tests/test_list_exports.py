"""The lists' CSV exports (patients, referrals, alerts, hand-offs, milestones due): each has
the rows of its list with the filters of the list's address, as scoped as the list, audited
(each patient read, and the export itself), safe to open in a spreadsheet, on the viewer's
clock, and read in a number of queries that does not grow with its rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.exports import audited_batches
from audit.models import AuditEntry
from carecoord.models import Patient, Site
from referrals.models import Referral
from referrals.selectors import referrals_visible_to
from tests.helpers import World, another_record, draft_referral, login, small_record

pytestmark = pytest.mark.django_db

BOM = "\ufeff"


@dataclass(frozen=True)
class ListExport:
    """A list page, its export, and how each names a row (the key column of the export)."""

    page: str
    export: str
    key: str  # the export's column that names the row
    keys_on_page: Callable[[Any], list[str]]


def _patient_names(response: Any) -> list[str]:
    return [f"{row.patient.family_name}, {row.patient.given_name}" for row in response.context["rows"]]


EXPORTS = {
    "patients": ListExport("dashboard", "patient-export", "Patient", _patient_names),
    "referrals": ListExport(
        "referral-list", "referral-export", "Referral", lambda r: [str(row.referral.pk) for row in r.context["rows"]]
    ),
    "alerts": ListExport("alert-list", "alert-export", "Alert", lambda r: [str(a.pk) for a in r.context["page"]]),
    "handoffs": ListExport(
        "my-handoffs", "handoff-export", "Hand-off", lambda r: [str(h.pk) for h in r.context["handoffs"]]
    ),
    "milestones-due": ListExport(
        "milestones-due",
        "milestones-due-export",
        "Milestone",
        lambda r: [str(row.milestone.pk) for row in r.context["rows"]],
    ),
}


def streamed(response: Any) -> str:
    """The whole of a streamed answer, read as the browser would."""
    return b"".join(cast(Iterator[bytes], response.streaming_content)).decode("utf-8")


def read_export(client: Client, url: str) -> tuple[Any, list[dict[str, str]], list[str]]:
    """GET an export: the response, its rows by header, and its header."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    text = streamed(response)
    assert text.startswith(BOM)
    reader = csv.DictReader(io.StringIO(text.removeprefix(BOM)))
    rows = list(reader)
    return response, rows, list(reader.fieldnames or [])


def page_and_export(client: Client, spec: ListExport, query: str = "") -> tuple[list[str], list[str]]:
    """The rows the list page shows (one page: the lists here are short) and the export's."""
    page = client.get(reverse(spec.page) + query)
    assert page.status_code == 200
    assert page.context["page"].paginator.num_pages == 1
    _, rows, _ = read_export(client, reverse(spec.export) + query)
    return spec.keys_on_page(page), [row[spec.key] for row in rows]


@pytest.fixture
def records(world: World, tmp_media: Path) -> None:
    """Two patients shared by the practice and the center, with something of every kind."""
    small_record(world)
    another_record(world)


@pytest.mark.parametrize("name", EXPORTS)
@pytest.mark.usefixtures("records")
def test_an_export_has_the_rows_of_its_list_in_its_order(client: Client, world: World, name: str) -> None:
    spec = EXPORTS[name]
    login(client, world.center_coordinator)
    on_page, exported = page_and_export(client, spec, "?window=fortnight" if name == "milestones-due" else "")
    assert exported == on_page
    assert len(exported) >= 2


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("patients", "?sort=phase&needs_action=on"),
        ("patients", "?phase=referred"),
        ("referrals", "?state=accepted&sort=oldest"),
        ("referrals", "?state=draft"),
        ("alerts", "?show=acknowledged"),
        ("alerts", "?show=open&grade=3&sort=grade"),
        ("handoffs", "?direction=to-me"),
        ("handoffs", "?direction=from-me&state=sent"),
        ("milestones-due", "?window=overdue"),
        ("milestones-due", "?window=fortnight&kind=apheresis"),
    ],
)
@pytest.mark.usefixtures("records")
def test_an_export_keeps_the_filters_of_the_lists_address(client: Client, world: World, name: str, query: str) -> None:
    spec = EXPORTS[name]
    login(client, world.center_coordinator)
    on_page, exported = page_and_export(client, spec, query)
    assert exported == on_page
    _, everything = page_and_export(client, spec, "?window=fortnight" if name == "milestones-due" else "")
    assert set(exported) <= set(everything)


@pytest.mark.usefixtures("records")
def test_the_filters_narrow_an_export(client: Client, world: World) -> None:
    """The comparison above is not vacuous: a filter leaves rows out of the export."""
    login(client, world.center_coordinator)
    draft_referral(world)
    _, drafts = page_and_export(client, EXPORTS["referrals"], "?state=draft")
    _, everything = page_and_export(client, EXPORTS["referrals"])
    assert 1 <= len(drafts) < len(everything)


@pytest.mark.usefixtures("records")
def test_a_search_word_in_the_address_is_not_read(client: Client, world: World) -> None:
    """Search words are posted, never in an address: a pasted one narrows nothing."""
    login(client, world.center_coordinator)
    _, rows, _ = read_export(client, reverse("referral-export") + "?q=Sharedcare")
    _, everything, _ = read_export(client, reverse("referral-export"))
    assert len(rows) == len(everything) >= 2


@pytest.mark.parametrize(
    ("name", "query", "exported"),
    [
        ("patients", "?phase=apheresis&page=1", "?phase=apheresis"),
        ("referrals", "?state=accepted&sort=oldest", "?state=accepted&sort=oldest"),
        ("alerts", "?show=open&page=1", "?show=open"),
        ("handoffs", "?direction=from-me", "?direction=from-me"),
        ("milestones-due", "?window=fortnight&kind=apheresis", "?window=fortnight&kind=apheresis"),
    ],
)
@pytest.mark.usefixtures("records")
def test_a_list_page_links_to_its_export_with_its_filters(
    client: Client, world: World, name: str, query: str, exported: str
) -> None:
    """On the whole page and in the results an htmx request gets (filters changed in place)."""
    spec = EXPORTS[name]
    login(client, world.center_coordinator)
    link = f'href="{reverse(spec.export)}{exported.replace("&", "&amp;")}" download>Export CSV'
    headers: dict[str, str]
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(reverse(spec.page) + query, headers=headers)
        assert link in response.content.decode(), headers


@pytest.mark.usefixtures("records")
def test_the_link_says_a_search_is_left_out(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    response = client.post(reverse("referral-list"), {"q": "Sharedcare", "state": "accepted"})
    body = response.content.decode()
    assert f'href="{reverse("referral-export")}?state=accepted" download>Export CSV' in body
    assert "without the search" in body


@pytest.mark.parametrize("name", EXPORTS)
@pytest.mark.usefixtures("records")
def test_an_outsider_exports_nothing_of_another_sites_patients(client: Client, world: World, name: str) -> None:
    login(client, world.outsider)
    query = "?window=fortnight" if name == "milestones-due" else ""
    response = client.get(reverse(EXPORTS[name].export) + query)
    assert response.status_code == 200
    text = streamed(response)
    foreign = Patient.objects.exclude(pk=world.foreign_patient.pk)
    for patient in foreign:
        assert patient.family_name not in text
        assert str(patient.pk) not in text
    assert not AuditEntry.objects.filter(actor=world.outsider, patient__in=foreign).exists()


def test_an_outsider_exports_their_own_patients(client: Client, world: World) -> None:
    login(client, world.outsider)
    _, rows, _ = read_export(client, reverse("patient-export"))
    assert [row["Patient"] for row in rows] == ["Foreignsite, Frank"]


def test_signed_out_no_export(client: Client, world: World) -> None:
    for spec in EXPORTS.values():
        response = client.get(reverse(spec.export))
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.usefixtures("records")
def test_an_export_records_each_patient_read_and_the_export_itself(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    before = AuditEntry.objects.count()
    _, rows, _ = read_export(client, reverse("referral-export") + "?state=accepted&page=3")
    entries = list(AuditEntry.objects.order_by("pk")[before:])
    reads = [e for e in entries if e.patient_id is not None]
    patients = set(Referral.objects.filter(pk__in=[int(r["Referral"]) for r in rows]).values_list("patient", flat=True))
    assert {e.patient_id for e in reads} == patients and len(reads) == len(patients) == 2
    assert {(e.action, e.what, e.object_type, e.site_id) for e in reads} == {
        (AuditEntry.Action.EXPORT, "exported referral", "referrals.referral", world.center.pk)
    }
    (export,) = [e for e in entries if e.patient_id is None]
    assert export.action == AuditEntry.Action.EXPORT
    assert export.actor == world.center_coordinator
    assert export.object_type == "referrals.referral"
    assert export.what == f"exported referral list as CSV: {len(rows)} rows; filters: state=accepted"
    assert export.pk == entries[-1].pk  # written once the rows are out
    names = Patient.objects.values_list("family_name", flat=True)
    assert not any(name in entry.what for entry in entries for name in names)


@pytest.mark.usefixtures("records")
def test_a_patient_is_recorded_once_whatever_the_number_of_their_rows(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    before = AuditEntry.objects.count()
    _, rows, _ = read_export(client, reverse("milestones-due-export") + "?window=fortnight")
    entries = AuditEntry.objects.order_by("pk")[before:]
    assert len(rows) > 2
    assert sorted(str(e.patient_id) for e in entries if e.patient_id) == sorted(
        {str(p) for p in Patient.objects.exclude(pk=world.foreign_patient.pk).values_list("pk", flat=True)}
    )


def test_an_export_not_read_records_nothing(client: Client, world: World) -> None:
    """Nothing is recorded (and nothing read) until the file is taken."""
    login(client, world.center_coordinator)
    before = AuditEntry.objects.count()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("patient-export"))
    assert response.status_code == 200
    assert AuditEntry.objects.count() == before
    assert not [q for q in captured.captured_queries if "audit_auditentry" in q["sql"]]


@pytest.mark.usefixtures("records")
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(client: Client, world: World) -> None:
    Patient.objects.filter(pk=world.shared_patient.pk).update(family_name='=HYPERLINK("http://x.test","a")')
    Site.objects.filter(pk=world.practice.pk).update(name="@Riverbend")
    login(client, world.center_coordinator)
    _, rows, _ = read_export(client, reverse("referral-export"))
    shared = [row for row in rows if "HYPERLINK" in row["Patient"]]
    assert shared and {row["Patient"] for row in shared} == {'\'=HYPERLINK("http://x.test","a"), Sharon'}
    assert {row["From"] for row in rows} == {"'@Riverbend"}


@pytest.mark.usefixtures("records")
def test_times_are_on_the_viewers_clock_and_the_header_names_it(client: Client, world: World) -> None:
    Site.objects.filter(pk=world.center.pk).update(time_zone="Pacific/Auckland")
    login(client, world.center_coordinator)
    response, rows, header = read_export(client, reverse("referral-export"))
    assert "Submitted (Pacific/Auckland)" in header
    referral = Referral.objects.get(pk=rows[0]["Referral"])
    assert referral.submitted_at is not None
    local = referral.submitted_at.astimezone(Site.objects.get(pk=world.center.pk).zone)
    assert rows[0]["Submitted (Pacific/Auckland)"] == local.strftime("%Y-%m-%d %H:%M")
    today = timezone.localdate(timezone=Site.objects.get(pk=world.center.pk).zone)
    assert response["Content-Disposition"] == f'attachment; filename="carecoord-referrals-{today.isoformat()}.csv"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def queries_of_export(client: Client, url: str) -> tuple[int, int]:
    """The rows of an export and the queries it ran, the file read to its end."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        text = streamed(response)
    return len(text.splitlines()) - 1, len(captured)


@pytest.mark.parametrize("name", EXPORTS)
def test_an_export_runs_as_many_queries_whatever_its_rows(
    client: Client, world: World, tmp_media: Path, name: str
) -> None:
    url = reverse(EXPORTS[name].export) + ("?window=fortnight" if name == "milestones-due" else "")
    login(client, world.center_coordinator)
    small_record(world)
    client.get(url)  # the session's activity stamp, refreshed once
    few_rows, few = queries_of_export(client, url)
    for _ in range(3):
        another_record(world)
    many_rows, many = queries_of_export(client, url)
    assert many_rows > few_rows >= 1
    assert many == few


@pytest.mark.usefixtures("records")
def test_a_download_stopped_early_is_recorded_as_stopped(rf: RequestFactory, world: World) -> None:
    """The batches sent so far were read: their patients are recorded, and the export entry
    says it stopped (the server closes the answer's rows when the browser goes away)."""
    request = rf.get(reverse("referral-export"))
    request.user = world.center_coordinator
    before = AuditEntry.objects.count()
    audited = audited_batches(
        request, referrals_visible_to(world.center_coordinator), label="referral list", filters={}
    )
    assert len(next(audited)) == 2
    assert AuditEntry.objects.count() == before + 2  # the batch's patients, before its rows go on
    audited.close()
    entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert [e.patient_id is None for e in entries] == [False, False, True]
    assert entries[-1].what == "exported referral list as CSV: 2 rows (download stopped); filters: none"
    assert entries[-1].actor == world.center_coordinator


@pytest.mark.usefixtures("records")
def test_an_export_in_many_batches_has_the_same_rows_and_records_each_patient_once(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, world.center_coordinator)
    url = reverse("milestones-due-export") + "?window=fortnight"
    _, in_one, _ = read_export(client, url)
    _, patients_in_one, _ = read_export(client, reverse("patient-export"))
    monkeypatch.setattr("carecoord.web.csv_export.EXPORT_BATCH", 1)
    before = AuditEntry.objects.count()
    _, one_by_one, _ = read_export(client, url)
    entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert one_by_one == in_one and len(one_by_one) > 2
    read = [e.patient_id for e in entries if e.patient_id is not None]
    assert len(read) == len(set(read)) == 2
    assert entries[-1].what == f"exported milestones due as CSV: {len(in_one)} rows; filters: window=fortnight"
    _, patients_one_by_one, _ = read_export(client, reverse("patient-export"))
    assert patients_one_by_one == patients_in_one  # MRNs, next steps and alerts read a batch at a time
