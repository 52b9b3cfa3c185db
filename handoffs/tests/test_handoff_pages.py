"""Hand-off pages: start prefilled, fill and save the draft, send, acknowledge, ask, print."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carecoord.models import OutgoingEmail, TimelineEntry
from handoffs.models import Handoff, HandoffQuestion
from handoffs.services import handoff_ask
from referrals.milestones.services import milestone_set_infusion
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from tests.helpers import (
    TRANSITION,
    VALID_POST,
    World,
    accepted_referral,
    draft_handoff,
    grow_record,
    login,
    name_point_persons,
    queries_of_get,
    sent_handoff,
    ship_templates,
    small_record,
    transition,
)

pytestmark = pytest.mark.django_db


def _edit(handoff: Handoff) -> str:
    return reverse("handoff-edit", kwargs={"handoff_id": handoff.pk})


def _detail(handoff: Handoff) -> str:
    return reverse("handoff-detail", kwargs={"handoff_id": handoff.pk})


def squash(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def _field_error(html: str, field_id: str) -> str:
    """The error shown next to a field (its `<p id="<field>-error">`), or ""."""
    marker = f'id="{field_id}-error">'
    if marker not in html:
        return ""
    return html.split(marker, 1)[1].split("</p>", 1)[0]


# --- starting -----------------------------------------------------------------------------------


def test_start_page_offers_published_templates_and_the_care_team_sites(
    center_coordinator_client: Client, world: World
) -> None:
    ship_templates()
    response = center_coordinator_client.get(reverse("handoff-start", kwargs={"patient_id": world.shared_patient.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    for name in (TRANSITION, "Referral packet", "Toxicity transfer"):
        assert name in html
    form = response.context["form"]
    assert [label for _, label in form.fields["from_site"].choices] == [world.center.name]
    assert [label for _, label in form.fields["to_site"].choices] == [world.practice.name]


def test_starting_a_handoff_prefills_the_24_7_number_and_point_persons(
    center_coordinator_client: Client, world: World
) -> None:
    name_point_persons(world)
    url = reverse("handoff-start", kwargs={"patient_id": world.shared_patient.pk})
    response = center_coordinator_client.post(
        url, {"template": transition().pk, "from_site": world.center.pk, "to_site": world.practice.pk}
    )
    handoff = Handoff.objects.get(patient=world.shared_patient)
    assert response.status_code == 302 and response["Location"] == _edit(handoff)
    html = center_coordinator_client.get(_edit(handoff)).content.decode()
    assert 'value="Lakeside CAR-T Center: +1 555 100 2400"' in html
    assert "Olive Oncologist" in html and "Nina Nurse" in html
    assert handoff.state == Handoff.State.DRAFT and handoff.from_site == world.center


def test_starting_after_infusion_prefills_the_infusion_date_and_driving_end(
    center_coordinator_client: Client, world: World
) -> None:
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
    driving_end = Milestone.objects.get(referral=referral, kind=MilestoneKind.NO_DRIVING_END).planned_on
    assert driving_end is not None
    handoff = draft_handoff(world)
    html = center_coordinator_client.get(_edit(handoff)).content.decode()
    assert 'name="treatment.infusion_date" id="f-treatment-infusion-date" value="2027-01-11"' in html
    assert f'name="restrictions.driving_until" id="f-restrictions-driving-until" value="{driving_end:%Y-%m-%d}"' in html


def test_starting_from_a_site_the_user_does_not_work_at_is_refused(
    center_coordinator_client: Client, world: World
) -> None:
    url = reverse("handoff-start", kwargs={"patient_id": world.shared_patient.pk})
    response = center_coordinator_client.post(
        url, {"template": transition().pk, "from_site": world.practice.pk, "to_site": world.center.pk}
    )
    assert response.status_code == 400
    assert not Handoff.objects.exists()


# --- filling the draft --------------------------------------------------------------------------


def test_saving_a_draft_with_a_bad_date_keeps_it_as_typed_and_shows_the_error_on_the_field(
    center_coordinator_client: Client, world: World
) -> None:
    handoff = draft_handoff(world)
    data = {"action": "save", "restrictions.driving_until": "next week", "safety.red_flags": "Fever"}
    response = center_coordinator_client.post(_edit(handoff), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Draft saved." in html
    assert _field_error(html, "f-restrictions-driving-until") == "Enter a date as YYYY-MM-DD."
    # Shown as typed, in a text input (a date input would blank it).
    assert 'type="text" name="restrictions.driving_until" id="f-restrictions-driving-until" value="next week"' in html
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.DRAFT
    assert handoff.values["restrictions.driving_until"] == "next week"
    assert handoff.values["safety.red_flags"] == "Fever"


def test_rows_are_saved_without_empty_ones_and_come_back_with_three_blank_rows(
    center_coordinator_client: Client, world: World
) -> None:
    handoff = draft_handoff(world)
    data = {
        "action": "save",
        "medications.current.0.drug": "Acyclovir",
        "medications.current.0.dose": "400 mg",
        "medications.current.1.drug": "",
        "medications.current.2.drug": "Valacyclovir",
    }
    response = center_coordinator_client.post(_edit(handoff), data)
    handoff.refresh_from_db()
    assert handoff.values["medications.current"] == [
        {"drug": "Acyclovir", "dose": "400 mg"},
        {"drug": "Valacyclovir"},
    ]
    html = response.content.decode()
    assert 'name="medications.current.4.drug"' in html and 'name="medications.current.5.drug"' not in html


def test_sending_with_missing_required_fields_is_refused_field_by_field_and_stays_a_draft(
    center_coordinator_client: Client, world: World
) -> None:
    handoff = draft_handoff(world)
    response = center_coordinator_client.post(
        _edit(handoff), {"action": "send", "treatment.product": "Yescarta", "safety.red_flags": ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert _field_error(html, "f-safety-red-flags") == "Red-flag symptoms needing a same-day call is required."
    assert _field_error(html, "f-medications-current") == "Current medications is required."
    assert _field_error(html, "f-treatment-product") == ""
    assert "There is a problem" in html and '<a href="#f-safety-red-flags">' in html
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.DRAFT
    assert handoff.values["treatment.product"] == "Yescarta"
    assert not OutgoingEmail.objects.filter(template="handoff-sent").exists()


def test_sending_a_complete_handoff_records_it_and_emails_the_receiving_point_persons(
    center_coordinator_client: Client, world: World
) -> None:
    name_point_persons(world)
    handoff = draft_handoff(world)
    response = center_coordinator_client.post(_edit(handoff), {"action": "send", **VALID_POST})
    assert response.status_code == 302 and response["Location"] == _detail(handoff)
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.SENT and handoff.sent_by == world.center_coordinator
    assert handoff.values["monitoring.irradiated_products"] is True
    assert handoff.values["medications.current"][0]["drug"] == "Acyclovir"
    assert TimelineEntry.objects.filter(
        patient=world.shared_patient, kind=TimelineEntry.Kind.HANDOFF, title__startswith="Hand-off sent to"
    ).exists()
    emailed = set(OutgoingEmail.objects.filter(template="handoff-sent").values_list("recipient", flat=True))
    assert emailed == {world.community_oncologist.pk, world.community_coordinator.pk}
    # A sent hand-off no longer changes: the edit page sends the reader to the hand-off.
    again = center_coordinator_client.post(_edit(handoff), {"action": "save", "treatment.product": "Other"})
    assert again.status_code == 302
    handoff.refresh_from_db()
    assert handoff.values["treatment.product"] == VALID_POST["treatment.product"]


def test_sending_a_second_handoff_supersedes_the_first(center_coordinator_client: Client, world: World) -> None:
    first = sent_handoff(world)
    second = draft_handoff(world)
    center_coordinator_client.post(_edit(second), {"action": "send", **VALID_POST})
    first.refresh_from_db()
    assert first.state == Handoff.State.SUPERSEDED and first.superseded_by == second
    html = center_coordinator_client.get(_detail(first)).content.decode()
    assert "Superseded." in html and f'href="{_detail(second)}"' in html


def test_only_the_sending_sites_staff_edit_the_draft(community_oncologist_client: Client, world: World) -> None:
    handoff = draft_handoff(world)
    assert community_oncologist_client.get(_edit(handoff)).status_code == 403
    response = community_oncologist_client.post(_edit(handoff), {"action": "save", "treatment.product": "X"})
    assert response.status_code == 403
    handoff.refresh_from_db()
    assert "treatment.product" not in handoff.values or handoff.values["treatment.product"] != "X"


def _preview(handoff: Handoff) -> str:
    return reverse("handoff-preview", kwargs={"handoff_id": handoff.pk})


def test_preview_shows_the_form_as_it_is_now_and_saves_nothing(center_coordinator_client: Client, world: World) -> None:
    """The edit page's Preview posts the form, unsaved edits included, to a page of its own (a
    new tab, so the form keeps them); it reads as the detail page would and says what would
    stop sending, and the draft stays as it was last saved."""
    handoff = draft_handoff(world)
    center_coordinator_client.post(_edit(handoff), {"action": "save", "treatment.product": "Saved product"})
    edit_page = center_coordinator_client.get(_edit(handoff)).content.decode()
    button = rf'<button type="submit" formaction="{_preview(handoff)}" formtarget="_blank"[^>]*>Preview'
    assert re.search(button, edit_page)
    handoff.refresh_from_db()
    saved = dict(handoff.values)
    typed = {"treatment.product": "Typed, not saved", "restrictions.driving_until": "next week"}
    response = center_coordinator_client.post(_preview(handoff), {"action": "save", **typed})
    assert response.status_code == 200
    html = squash(response.content.decode())
    assert "This preview is not saved." in html and "with edits the saved draft does not have yet" in html
    assert "Typed, not saved" in html and "Saved product" not in html
    assert "No driving until: Enter a date as YYYY-MM-DD." in html
    assert "Red-flag symptoms needing a same-day call is required." in html and "Not ready to send:" in html
    handoff.refresh_from_db()
    assert handoff.values == saved and handoff.state == Handoff.State.DRAFT
    assert not TimelineEntry.objects.filter(kind=TimelineEntry.Kind.HANDOFF).exists()

    ready = squash(center_coordinator_client.post(_preview(handoff), VALID_POST).content.decode())
    assert "Not ready to send" not in ready and "Every required field is filled in: it can be sent." in ready
    assert "Acyclovir" in ready and "Yescarta (axicabtagene ciloleucel)" in ready
    handoff.refresh_from_db()
    assert handoff.values == saved and handoff.state == Handoff.State.DRAFT


def test_preview_is_for_those_who_edit_the_draft(client: Client, world: World) -> None:
    handoff = draft_handoff(world)
    login(client, world.community_oncologist)
    refused = client.post(_preview(handoff), {"treatment.product": "Theirs"})
    assert refused.status_code == 403 and b"Theirs" not in refused.content
    login(client, world.center_coordinator)
    assert client.get(_preview(handoff)).status_code == 405
    sent = sent_handoff(world)
    gone = client.post(_preview(sent), VALID_POST)
    assert gone.status_code == 302 and gone["Location"] == _detail(sent)


def test_add_row_returns_one_more_row_and_moves_the_button(center_coordinator_client: Client, world: World) -> None:
    handoff = draft_handoff(world)
    url = reverse("handoff-row", kwargs={"handoff_id": handoff.pk})
    response = center_coordinator_client.get(url, {"field": "monitoring.lab_schedule", "index": "3"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="monitoring.lab_schedule.3.test"' in html and "index=4" in html and 'hx-swap-oob="true"' in html
    assert center_coordinator_client.get(url, {"field": "treatment.product", "index": "0"}).status_code == 400


# --- reading, acknowledging, asking ---------------------------------------------------------------


def test_detail_shows_the_filled_handoff_with_its_stamp(community_oncologist_client: Client, world: World) -> None:
    name_point_persons(world)
    handoff = sent_handoff(world)
    response = community_oncologist_client.get(_detail(handoff))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"{TRANSITION}, version 3" in html
    assert f"by {world.center_coordinator.full_name}, {world.center.name}" in html
    assert "Acyclovir" in html and "CBC with differential" in html
    assert 'action="' + reverse("handoff-acknowledge", kwargs={"handoff_id": handoff.pk}) + '"' in html
    assert response["Cache-Control"].count("no-store") == 1


def test_the_receiving_point_person_acknowledges(community_oncologist_client: Client, world: World) -> None:
    name_point_persons(world)
    handoff = sent_handoff(world)
    url = reverse("handoff-acknowledge", kwargs={"handoff_id": handoff.pk})
    response = community_oncologist_client.post(url)
    assert response.status_code == 302 and response["Location"] == _detail(handoff)
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.ACKNOWLEDGED and handoff.acknowledged_by == world.community_oncologist
    assert "Acknowledged" in community_oncologist_client.get(_detail(handoff)).content.decode()


def test_someone_else_cannot_acknowledge(client: Client, world: World) -> None:
    people = name_point_persons(world)
    handoff = sent_handoff(world)
    url = reverse("handoff-acknowledge", kwargs={"handoff_id": handoff.pk})
    for user in (world.center_coordinator, people["center_nurse"]):
        login(client, user)
        assert "Acknowledge</button>" not in client.get(_detail(handoff)).content.decode()
        assert client.post(url).status_code == 403
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.SENT and handoff.acknowledged_at is None


def test_questions_go_back_and_forth_on_the_handoff(client: Client, world: World) -> None:
    name_point_persons(world)
    handoff = sent_handoff(world)
    url = reverse("handoff-question", kwargs={"handoff_id": handoff.pk})
    login(client, world.community_oncologist)
    response = client.post(url, {"body": "Is the acyclovir dose renally adjusted?", "needs_answer": "on"})
    assert response.status_code == 302
    login(client, world.center_coordinator)
    # The practice's question waits for the center: its form answers by default (unticked).
    html = client.get(_detail(handoff)).content.decode()
    assert f"Waiting on {world.center.name} since" in html
    assert _needs_answer_box(html) == f"This needs an answer from {world.practice.name}"
    client.post(url, {"body": "Yes: creatinine clearance was normal."})
    html = client.get(_detail(handoff)).content.decode()
    assert html.index("renally adjusted") < html.index("creatinine clearance")
    assert html.index(">Question</span>") < html.index(">Answer</span>")
    assert "No question waiting: answered." in html
    assert OutgoingEmail.objects.filter(template="handoff-question", recipient=world.center_coordinator).count() == 1
    assert OutgoingEmail.objects.filter(template="handoff-answer", recipient=world.community_oncologist).count() == 1
    assert client.post(url, {"body": "  "}).status_code == 400
    assert HandoffQuestion.objects.filter(handoff=handoff).count() == 2
    # Nothing waits for the center now: a new message asks the practice by default (ticked).
    assert _needs_answer_box(html) == f"This needs an answer from {world.practice.name} (ticked)"


def _needs_answer_box(html: str) -> str:
    """The thread form's "needs an answer" checkbox: its label, and whether it is ticked."""
    box = re.search(r'<input type="checkbox" name="needs_answer"[^>]*>', html)
    label = re.search(r'<label for="id_question_needs_answer">([^<]*)</label>', html)
    assert box and label
    return label.group(1) + (" (ticked)" if "checked" in box.group(0) else "")


def test_detail_page_queries_do_not_grow_with_the_questions(center_coordinator_client: Client, world: World) -> None:
    name_point_persons(world)
    handoff = sent_handoff(world)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert center_coordinator_client.get(_detail(handoff)).status_code == 200
        return len(captured)

    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="First question")
    one = queries()
    for number in range(5):
        handoff_ask(actor=world.community_coordinator, handoff=handoff, body=f"Question {number}")
    assert queries() == one


def test_list_page_queries_do_not_grow_with_handoffs_or_the_record(
    center_coordinator_client: Client, world: World, tmp_media: object
) -> None:
    record = small_record(world)
    url = reverse("handoff-list", kwargs={"patient_id": world.shared_patient.pk})
    center_coordinator_client.get(url)  # warm the caches (content types, site groups)
    one = queries_of_get(center_coordinator_client, url)
    grow_record(record)  # another hand-off, and more of everything on the record
    draft_handoff(world)
    assert Handoff.objects.filter(patient=world.shared_patient).count() == 3
    assert queries_of_get(center_coordinator_client, url) == one


def test_list_shows_the_patients_handoffs(community_oncologist_client: Client, world: World) -> None:
    handoff = sent_handoff(world)
    response = community_oncologist_client.get(reverse("handoff-list", kwargs={"patient_id": world.shared_patient.pk}))
    assert response.status_code == 200
    assert f'href="{_detail(handoff)}"' in response.content.decode()


def test_timeline_header_links_to_the_handoffs(community_oncologist_client: Client, world: World) -> None:
    response = community_oncologist_client.get(
        reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})
    )
    assert reverse("handoff-list", kwargs={"patient_id": world.shared_patient.pk}) in response.content.decode()


# --- print and PDF ----------------------------------------------------------------------------------


def test_pdf_of_a_sent_handoff_is_an_attachment_that_is_not_cached(
    community_oncologist_client: Client, world: World
) -> None:
    handoff = sent_handoff(world)
    response = community_oncologist_client.get(reverse("handoff-pdf", kwargs={"handoff_id": handoff.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="handoff-{handoff.pk}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")


def test_a_draft_has_no_pdf(center_coordinator_client: Client, world: World) -> None:
    handoff = draft_handoff(world)
    response = center_coordinator_client.get(reverse("handoff-pdf", kwargs={"handoff_id": handoff.pk}))
    assert response.status_code == 409


def test_detail_page_links_the_print_stylesheet(community_oncologist_client: Client, world: World) -> None:
    handoff = sent_handoff(world)
    html = community_oncologist_client.get(_detail(handoff)).content.decode()
    assert 'handoffs-print.css" media="print"' in html
    assert reverse("handoff-pdf", kwargs={"handoff_id": handoff.pk}) in html


# --- outsiders --------------------------------------------------------------------------------------


def test_outsider_gets_404_on_every_handoff_page(outsider_client: Client, world: World) -> None:
    handoff = sent_handoff(world)
    draft = draft_handoff(world)
    before = list(Handoff.objects.order_by("pk").values_list("state", "values"))
    urls = [
        reverse("handoff-list", kwargs={"patient_id": world.shared_patient.pk}),
        reverse("handoff-start", kwargs={"patient_id": world.shared_patient.pk}),
        *[
            reverse(name, kwargs={"handoff_id": h.pk})
            for h in (handoff, draft)
            for name in ("handoff-detail", "handoff-edit", "handoff-preview", "handoff-row", "handoff-acknowledge")
        ],
        reverse("handoff-question", kwargs={"handoff_id": handoff.pk}),
        reverse("handoff-pdf", kwargs={"handoff_id": handoff.pk}),
    ]
    for url in urls:
        assert outsider_client.get(url).status_code == 404, url
        assert outsider_client.post(url, {"action": "send", "body": "Hi", **VALID_POST}).status_code == 404, url
    assert list(Handoff.objects.order_by("pk").values_list("state", "values")) == before
    assert not HandoffQuestion.objects.exists()


def test_anonymous_is_sent_to_sign_in(client: Client, world: World) -> None:
    handoff = sent_handoff(world)
    response = client.get(_detail(handoff))
    assert response.status_code == 302 and "login" in response["Location"]
