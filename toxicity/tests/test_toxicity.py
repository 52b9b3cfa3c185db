"""Toxicity events: graded by the consensus rules, alerted the same day, escalated when unseen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from carecoord.emails import email_claim, email_deliver
from carecoord.models import OutgoingEmail, PointPerson, TimelineEntry
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_name_point_person
from carecoord.services.memberships import membership_start
from tests.factories import member
from tests.helpers import CRS_GRADE_2, CRS_GRADE_3, INFUSED_ON, NOW, World, infused, login, name_point_persons, wait_for
from tests.smtp import smtp_catcher, text_and_html
from tests.worker import running_worker
from toxicity.alerts import alert_acknowledge, escalate_due_alerts
from toxicity.models import Alert, ToxicityEvent
from toxicity.services import toxicity_assess, toxicity_record, toxicity_resolve


def _record(world: World, inputs: dict[str, Any] = CRS_GRADE_3, at: dt.datetime = NOW) -> ToxicityEvent:
    with time_machine.travel(at, tick=False):
        return toxicity_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            kind="crs",
            onset_at=at - dt.timedelta(hours=1),
            inputs=inputs,
        )


@pytest.mark.django_db
def test_crs_is_graded_from_the_assessment_with_its_reason_and_day(world: World) -> None:
    infused(world, INFUSED_ON)
    event = _record(world)
    assert (event.grade, event.onset_day, event.atypical_reason) == (3, 9, "")
    assert "one vasopressor" in event.grade_reason
    entry = TimelineEntry.objects.get(patient=world.shared_patient, kind=TimelineEntry.Kind.TOXICITY)
    # The title is kept as written: no day +N in it, since day 0 may still move.
    assert entry.title == "Cytokine release syndrome (CRS) grade 3 recorded"


@pytest.mark.django_db
def test_crs_after_day_fourteen_is_flagged_as_atypical(world: World) -> None:
    infused(world, INFUSED_ON)
    event = _record(world, at=dt.datetime(2027, 1, 30, 15, 0, tzinfo=dt.UTC))
    assert "day +19" in event.atypical_reason and "infection" in event.atypical_reason


@pytest.mark.django_db
def test_an_assessment_below_the_criteria_or_out_of_domain_is_a_field_error(world: World) -> None:
    with pytest.raises(ValidationError) as below:
        _record(world, inputs={"temperature_c": 37.2})
    assert "kind" in below.value.message_dict
    with pytest.raises(ValidationError) as bad:
        _record(world, inputs={"temperature_c": 39.0, "oxygen": "nasal_cannula"})
    assert "oxygen_flow_l_min" in bad.value.message_dict
    assert not ToxicityEvent.objects.exists()


@pytest.mark.django_db
def test_every_point_person_at_both_sites_is_alerted_by_email_and_in_app(world: World) -> None:
    people = name_point_persons(world)
    event = _record(world)
    recipients = set(Alert.objects.filter(event=event).values_list("recipient", flat=True))
    expected = {world.community_oncologist.pk, world.community_coordinator.pk, world.center_coordinator.pk}
    assert recipients == expected | {people["center_nurse"].pk}
    # The oncologist recorded it: no email to them, and their site's alerts count as seen.
    assert OutgoingEmail.objects.filter(template="toxicity-alert").count() == 3
    others = Alert.objects.filter(event=event).exclude(recipient=world.community_oncologist)
    assert all(alert.email_id for alert in others)
    practice = Alert.objects.filter(event=event, site=world.practice)
    assert all(alert.acknowledged_on_recording for alert in practice)


@pytest.mark.django_db
def test_every_alert_is_written_with_its_events_patient(world: World) -> None:
    """`Alert.patient` scopes a person's alerts (`alerts_visible_to`): the event's patient,
    however the alert is written (the app's bulk writes, escalations, one `create`)."""
    name_point_persons(world)
    event = _record(world)
    with time_machine.travel(NOW + dt.timedelta(minutes=31), tick=False):
        assert escalate_due_alerts() == 2
    one = Alert.objects.create(
        event=event, recipient=world.outsider, site=world.center, reason=Alert.Reason.RECORDED, grade=event.grade
    )
    alerts = Alert.objects.filter(event=event)
    assert alerts.count() > 4 and alerts.filter(escalated_from__isnull=False).exists()
    assert set(alerts.values_list("patient_id", flat=True)) == {event.patient_id} == {one.patient_id}


@pytest.mark.django_db
def test_the_alert_email_carries_the_minimum(world: World, mailoutbox: list[Any]) -> None:
    name_point_persons(world)
    event = _record(world)
    alert = Alert.objects.get(event=event, recipient=world.community_coordinator)
    assert alert.email is not None
    claimed = email_claim(alert.email.pk).email
    assert claimed is not None
    email_deliver(claimed)
    (message,) = mailoutbox
    mrn = world.shared_patient.identifiers.get(site=world.practice).mrn
    text = message.subject + message.body + str(message.alternatives[0][0])
    assert f"MRN {mrn}" in message.subject and "grade 3" in message.subject
    assert "Sharedcare" not in text and "Sharon" not in text and "<img" not in text
    assert reverse("toxicity-event", kwargs={"event_id": event.pk}) in message.body


@pytest.mark.django_db
def test_only_the_sites_that_did_not_record_the_change_are_asked_to_acknowledge_it(
    world: World, mailoutbox: list[Any]
) -> None:
    """The practice recorded the toxicity: its coordinator's alert counts as seen, and their
    email says so instead of asking for an acknowledgement; the center's people are asked."""
    people = name_point_persons(world)
    event = _record(world)
    for recipient in (world.community_coordinator, people["center_nurse"]):
        alert = Alert.objects.get(event=event, recipient=recipient)
        assert alert.email is not None
        claimed = email_claim(alert.email.pk).email
        assert claimed is not None
        email_deliver(claimed)
    own, other = mailoutbox
    own_html, other_html = str(own.alternatives[0][0]), str(other.alternatives[0][0])
    assert "nothing to acknowledge" in own.body and "Please acknowledge" not in own.body
    assert "Acknowledge in carecoord" not in own_html and "Open in carecoord" in own_html
    assert "nothing to acknowledge" in own_html and "nothing to acknowledge" not in other_html  # both parts say so
    assert "Please acknowledge it in carecoord" in other.body and "nothing to acknowledge" not in other.body
    assert "Acknowledge in carecoord" in other_html


@pytest.mark.django_db
def test_a_rising_grade_alerts_again_and_a_falling_one_does_not(world: World) -> None:
    name_point_persons(world)
    event = _record(world, inputs=CRS_GRADE_2)
    with time_machine.travel(NOW, tick=False):
        toxicity_assess(
            actor=world.center_coordinator, event=event, site=world.center, assessed_at=NOW, inputs=CRS_GRADE_3
        )
        assert Alert.objects.filter(event=event, reason=Alert.Reason.GRADE_ROSE).count() == 4
        toxicity_assess(
            actor=world.center_coordinator, event=event, site=world.center, assessed_at=NOW, inputs=CRS_GRADE_2
        )
    event.refresh_from_db()
    assert (event.grade, event.highest_grade, event.assessments.count()) == (2, 3, 3)
    assert Alert.objects.filter(event=event).count() == 8


@pytest.mark.django_db
def test_resolution_alerts_and_never_escalates(world: World) -> None:
    name_point_persons(world)
    event = _record(world)
    with time_machine.travel(NOW, tick=False):
        toxicity_resolve(
            actor=world.center_coordinator, event=event, site=world.center, resolved_on=NOW.date(), outcome="recovered"
        )
    resolved = Alert.objects.filter(event=event, reason=Alert.Reason.RESOLVED)
    assert resolved.count() == 4 and not resolved.filter(escalate_at__isnull=False).exists()


@pytest.mark.django_db
def test_grade_three_escalates_after_thirty_minutes_to_backup_and_coordinators_once(world: World) -> None:
    people = name_point_persons(world)
    _record(world)
    alert = Alert.objects.get(recipient=people["center_nurse"])
    with time_machine.travel(NOW + dt.timedelta(minutes=29), tick=False):
        assert escalate_due_alerts() == 0
    with time_machine.travel(NOW + dt.timedelta(minutes=31), tick=False):
        # Every unacknowledged alert escalates (the center's: the practice recorded it, so its
        # own are seen); the center nurse's goes to the center's coordinator.
        assert escalate_due_alerts() == 2
        assert escalate_due_alerts() == 0
    escalated = Alert.objects.filter(escalated_from=alert)
    assert [a.recipient_id for a in escalated] == [world.center_coordinator.pk]
    assert TimelineEntry.objects.filter(title__contains="not acknowledged in time").count() == 2


@pytest.mark.django_db
def test_lower_grades_escalate_after_four_hours_and_acknowledged_alerts_never(world: World) -> None:
    people = name_point_persons(world)
    first = _record(world, inputs=CRS_GRADE_2)
    with time_machine.travel(NOW + dt.timedelta(hours=3, minutes=59), tick=False):
        assert escalate_due_alerts() == 0
    with time_machine.travel(NOW + dt.timedelta(hours=4, minutes=1), tick=False):
        assert escalate_due_alerts() == 2  # the center's two; the practice recorded it
    # A second event whose center alert is acknowledged in time never escalates.
    second = _record(world, inputs=CRS_GRADE_2, at=NOW + dt.timedelta(minutes=10))
    nurse_alert = Alert.objects.get(event=second, recipient=people["center_nurse"])
    alert_acknowledge(actor=people["center_nurse"], alert=nurse_alert)
    with time_machine.travel(NOW + dt.timedelta(hours=5), tick=False):
        assert escalate_due_alerts() == 0
    assert TimelineEntry.objects.filter(title__startswith="Alert acknowledged at Lakeside").exists()
    assert first.pk != second.pk


@pytest.mark.django_db
def test_only_the_person_alerted_acknowledges_from_the_event_page(world: World) -> None:
    people = name_point_persons(world)
    event = _record(world)
    nurse = people["center_nurse"]
    alert = Alert.objects.get(event=event, recipient=nurse)
    page = reverse("toxicity-event", kwargs={"event_id": event.pk})
    alerted = login(Client(), nurse)
    assert "Acknowledge" in alerted.get(page).content.decode()
    # The recorder is never asked to acknowledge their own entry.
    assert 'id="ack-heading"' not in login(Client(), world.community_oncologist).get(page).content.decode()
    ack = reverse("alert-acknowledge", kwargs={"alert_id": alert.pk})
    assert login(Client(), world.center_coordinator).post(ack).status_code == 404  # not their alert
    assert alerted.post(ack).status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == nurse


@pytest.mark.django_db
def test_acknowledging_an_earlier_lower_grade_leaves_the_rise_open_until_it_is_seen(world: World) -> None:
    """One acknowledgement covers the site's alerts on the event up to its grade: a nurse who
    acknowledges the grade 2 alert leaves the grade 3 the event rose to open (and escalating),
    and acknowledging the grade 3 covers both, for her colleague too."""
    people = name_point_persons(world)
    nurse = people["center_nurse"]
    event = _record(world, inputs=CRS_GRADE_2)
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        toxicity_assess(
            actor=world.community_oncologist,
            event=event,
            site=world.practice,
            assessed_at=NOW,
            inputs=CRS_GRADE_3,
        )
    at_center = Alert.objects.filter(event=event, site=world.center)
    first = at_center.get(recipient=nurse, reason=Alert.Reason.RECORDED)
    rise = at_center.get(recipient=nurse, reason=Alert.Reason.GRADE_ROSE)
    assert (first.grade, rise.grade) == (2, 3)

    alert_acknowledge(actor=nurse, alert=first)
    assert set(at_center.unacknowledged().values_list("grade", flat=True)) == {3}
    assert at_center.filter(grade=2).unacknowledged().count() == 0
    entry = TimelineEntry.objects.filter(patient=world.shared_patient, title__startswith="Alert acknowledged").get()
    assert entry.title.endswith("grade 2")
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        assert escalate_due_alerts() >= 1  # the rise nobody saw escalates
    rise.refresh_from_db()
    assert rise.escalated_at is not None

    alert_acknowledge(actor=nurse, alert=rise)
    assert not at_center.unacknowledged().exists()


@pytest.mark.django_db
def test_one_click_that_acknowledges_two_alerts_says_so(world: World) -> None:
    """The nurse's waiting count drops by two: the message says which two, not "Alert acknowledged"."""
    nurse = name_point_persons(world)["center_nurse"]
    event = _record(world, inputs=CRS_GRADE_2)
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        toxicity_assess(
            actor=world.community_oncologist, event=event, site=world.practice, assessed_at=NOW, inputs=CRS_GRADE_3
        )
        client = login(Client(), nurse)
        rise = Alert.objects.get(event=event, recipient=nurse, reason=Alert.Reason.GRADE_ROSE)
        url = reverse("alert-acknowledge", kwargs={"alert_id": rise.pk})
        response = client.post(url, {"next": reverse("alert-list")}, follow=True)
    assert not Alert.objects.filter(recipient=nurse).unacknowledged().exists()
    assert [str(m) for m in response.context["messages"]] == [
        "2 alerts acknowledged: Cytokine release syndrome (CRS) grade 3 and the grade 2 before it. "
        "The other site sees it on the timeline."
    ]


@pytest.mark.django_db
def test_outsider_gets_404_for_the_event_and_the_alert(world: World) -> None:
    name_point_persons(world)
    event = _record(world)
    alert = Alert.objects.filter(event=event).first()
    assert alert is not None
    outsider = login(Client(), world.outsider)
    assert outsider.get(reverse("toxicity-event", kwargs={"event_id": event.pk})).status_code == 404
    assert outsider.post(reverse("alert-acknowledge", kwargs={"alert_id": alert.pk})).status_code == 404
    assert "Sharedcare" not in outsider.get(reverse("alert-list")).content.decode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_delivers_each_alert_once_over_smtp(world: World, tmp_path: Path) -> None:
    name_point_persons(world)
    with smtp_catcher() as catcher, running_worker(tmp_path / "worker.log", extra_env=catcher.env):
        toxicity_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            kind="crs",
            onset_at=timezone.now() - dt.timedelta(hours=1),
            inputs=CRS_GRADE_3,
        )
        # Every point person but the oncologist, who recorded it.
        wait_for(lambda: len(catcher.messages) == 3, timeout=60, describe=lambda: (tmp_path / "worker.log").read_text())
        message = catcher.to(world.center_coordinator.email)[0]
        text, html = text_and_html(message)
        assert "grade 3" in message["Subject"] and "Acknowledge in carecoord" in html and "Sharedcare" not in text
    assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count() == 3
    assert PointPerson.objects.count() == 4


@pytest.mark.django_db
def test_the_header_counts_unacknowledged_alerts(world: World) -> None:
    people = name_point_persons(world)
    _record(world)
    nurse = login(Client(), people["center_nurse"])
    assert 'aria-label="1 waiting"' in nurse.get(reverse("dashboard")).content.decode()
    alert_acknowledge(actor=people["center_nurse"], alert=Alert.objects.get(recipient=people["center_nurse"]))
    assert 'class="badge"' not in nurse.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_assessments_treatments_and_resolutions_cannot_be_dated_in_the_future(world: World) -> None:
    event = _record(world, at=timezone.now())
    tomorrow = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        toxicity_assess(
            actor=world.center_coordinator, event=event, site=world.center, assessed_at=tomorrow, inputs=CRS_GRADE_2
        )
    assert "assessed_at" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        toxicity_resolve(
            actor=world.center_coordinator,
            event=event,
            site=world.center,
            resolved_on=(tomorrow + dt.timedelta(days=2)).date(),
            outcome="recovered",
        )
    assert "resolved_on" in error.value.message_dict


@pytest.mark.django_db
def test_the_alert_list_is_paged_with_open_alerts_first(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    people = name_point_persons(world)
    nurse = people["center_nurse"]
    _record(world)
    second = _record(world, inputs=CRS_GRADE_2, at=NOW + dt.timedelta(minutes=10))
    alert_acknowledge(actor=nurse, alert=Alert.objects.get(event=second, recipient=nurse))
    monkeypatch.setattr("toxicity.alert_views.ALERTS_PER_PAGE", 1)
    client = login(Client(), nurse)
    first_page = client.get(reverse("alert-list")).content.decode()
    assert "Page 1 of 2" in first_page
    assert "Nothing waiting." not in first_page and "None yet." in first_page  # the open one first
    second_page = client.get(reverse("alert-list"), {"page": 2}).content.decode()
    assert "Nothing waiting." in second_page and "acknowledged" in second_page


def test_an_acknowledgement_is_signed_by_the_site_the_person_was_alerted_as(world: World) -> None:
    """A person at both sites, alerted as the practice's primary: the audit trail signs their
    acknowledgement with the practice, not with the center that comes first by name."""
    both = member(world.practice, Role.PHYSICIAN, email="both@riverbend.test")
    membership_start(user=both, site=world.center, role=Role.PHYSICIAN, starts_on=dt.date(2020, 1, 1))
    name_point_persons(world)
    link = world.shared_patient.care_team.get(site=world.practice)
    care_team_name_point_person(actor=world.community_coordinator, link=link, user=both, rank="primary")
    event = toxicity_record(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        site=world.center,
        kind="crs",
        onset_at=timezone.now() - dt.timedelta(hours=1),
        inputs=CRS_GRADE_3,
    )
    alert = Alert.objects.get(event=event, recipient=both, site=world.practice)
    before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert login(Client(), both).post(reverse("alert-acknowledge", kwargs={"alert_id": alert.pk})).status_code == 302
    signed = AuditEntry.objects.filter(pk__gt=before, object_type="toxicity.alert", action=AuditEntry.Action.UPDATE)
    assert set(signed.values_list("site_id", flat=True)) == {world.practice.pk}
