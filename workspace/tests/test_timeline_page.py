"""The shared patient timeline page, its milestone actions and the comment thread."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from carecoord.models import CareTeamLink, Patient, PointPerson, Product, TimelineEntry
from carecoord.models.patients import Phase
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_name_point_person
from carecoord.services.comments import comment_post
from carecoord.timeline import timeline_record
from handoffs.models import Handoff
from handoffs.services import handoff_acknowledge
from referrals.milestones.kinds import PreparationKind
from referrals.milestones.services import (
    milestone_complete,
    milestone_correct_done,
    milestone_move,
    milestone_plan,
    milestone_set_infusion,
)
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind
from tests.factories import member
from tests.helpers import (
    World,
    accepted_referral,
    api_token_header,
    grade_2_event,
    grow_record,
    infused,
    login,
    name_point_persons,
    sent_handoff,
    small_record,
)
from toxicity.alerts import alert_acknowledge
from toxicity.models import Alert, ToxicityEvent
from toxicity.services import toxicity_resolve
from workspace.timeline.links import milestone_row_url

pytestmark = pytest.mark.django_db

INFUSION = dt.date(2027, 1, 11)
# Noon in Chicago on the day after infusion: the viewers' sites are in America/Chicago.
DAY_AFTER_INFUSION = dt.datetime(2027, 1, 12, 18, 0, tzinfo=dt.UTC)


def timeline_url(patient: Patient) -> str:
    return reverse("patient-timeline", kwargs={"patient_id": patient.pk})


def comment_url(patient: Patient) -> str:
    return reverse("patient-comment", kwargs={"patient_id": patient.pk})


def milestones_url(patient: Patient) -> str:
    return reverse("patient-timeline-milestones", kwargs={"patient_id": patient.pk})


def infused_referral(world: World) -> Referral:
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=INFUSION)
    return referral


def milestone(referral: Referral, kind: str) -> Milestone:
    return Milestone.objects.get(referral=referral, kind=kind)


def html_of(response: Any) -> str:
    return response.content.decode()


def squash(html: str) -> str:
    return re.sub(r"\s+", " ", html)


# Who sees it


def test_both_care_team_sites_see_referral_moves_milestones_and_comments_in_order(client: Client, world: World) -> None:
    referral = infused_referral(world)
    comment_post(
        actor=world.community_oncologist, patient=world.shared_patient, site=world.practice, body="Labs faxed today."
    )
    for user in (world.center_coordinator, world.community_oncologist):
        login(client, user)
        response = client.get(timeline_url(world.shared_patient))
        assert response.status_code == 200
        html = html_of(response)
        events = html.split('id="events"')[1].split("</section>")[0]
        submitted = events.index("Referral submitted")
        accepted = events.index("Referral accepted")
        infusion = events.index("Infusion (day 0) planned for 11 Jan 2027")
        comment = events.index("Labs faxed today.")
        assert submitted < accepted < infusion < comment
        assert "Labs faxed today." in html.split('id="thread"')[1].split("</section>")[0]
        assert f'id="milestone-{milestone(referral, MilestoneKind.INFUSION).pk}"' in html
        # Two months ahead, after the next five: behind "Show all milestones".
        every = html_of(client.get(milestones_url(world.shared_patient), headers=HTMX))
        assert f'id="milestone-{milestone(referral, MilestoneKind.HAND_BACK).pk}"' in every
        assert "Hand-back to the community" in every
        client.logout()


def test_outsider_gets_404_for_patient_timeline(outsider_client: Client, world: World) -> None:
    assert outsider_client.get(timeline_url(world.shared_patient)).status_code == 404


def test_anonymous_is_sent_to_login_from_the_timeline(client: Client, world: World) -> None:
    response = client.get(timeline_url(world.shared_patient))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_outsider_gets_404_posting_a_comment_and_nothing_is_written(outsider_client: Client, world: World) -> None:
    before = TimelineEntry.objects.count()
    for method in ("get", "post"):
        response = getattr(outsider_client, method)(
            comment_url(world.shared_patient), {"body": "hello", "site": world.unrelated_practice.pk}
        )
        assert response.status_code == 404
    assert TimelineEntry.objects.count() == before


def _action_urls(referral: Referral) -> list[str]:
    target = milestone(referral, MilestoneKind.HAND_BACK)
    return [
        *(reverse(name, kwargs={"milestone_id": target.pk}) for name in ("milestone-complete", "milestone-move")),
        reverse("milestone-cancel", kwargs={"milestone_id": target.pk}),
        reverse("referral-infusion", kwargs={"referral_id": referral.pk}),
        reverse("milestone-plan", kwargs={"referral_id": referral.pk}),
    ]


def test_outsider_gets_404_on_every_milestone_action_for_the_shared_patient(client: Client, world: World) -> None:
    referral = infused_referral(world)
    snapshot = list(Milestone.objects.order_by("pk").values_list("planned_on", "status", "actual_on"))
    entries = TimelineEntry.objects.count()
    login(client, world.outsider)
    payload = {
        "actual_on": "2027-02-01",
        "planned_on": "2027-02-02",
        "infusion_on": "2027-02-03",
        "reason": "because",
        "kind": PreparationKind.APHERESIS.value,
    }
    for url in _action_urls(referral):
        assert client.get(url).status_code == 404, url
        assert client.post(url, payload).status_code == 404, url
    hand_back = milestone(referral, MilestoneKind.HAND_BACK)
    for action in ("complete", "move", "cancel", "confirm"):
        assert client.get(form_url(action, hand_back), headers=HTMX).status_code == 404, action
    assert client.get(earlier_url(world.shared_patient), headers=HTMX).status_code == 404
    for headers in (HTMX, {}):
        assert client.get(milestones_url(world.shared_patient), headers=headers).status_code == 404
    assert client.get(timeline_url(world.shared_patient), {"milestone": hand_back.pk}).status_code == 404
    assert list(Milestone.objects.order_by("pk").values_list("planned_on", "status", "actual_on")) == snapshot
    assert TimelineEntry.objects.count() == entries


def test_read_only_member_sees_no_action_forms_and_a_post_is_refused_with_nothing_changed(
    client: Client, world: World
) -> None:
    referral = infused_referral(world)
    reader = member(world.center, Role.READ_ONLY, email="reader@lakeside.test")
    login(client, reader)
    html = html_of(client.get(timeline_url(world.shared_patient)))
    every = html_of(client.get(milestones_url(world.shared_patient)))
    assert "Infusion" in html and "Hand-back to the community" in every
    assert 'action="/milestones/' not in html and 'action="/milestones/' not in every
    assert "/form/" not in every
    assert f'action="{comment_url(world.shared_patient)}"' not in html
    assert "read the messages but not write them" in html

    hand_back = milestone(referral, MilestoneKind.HAND_BACK)
    entries = TimelineEntry.objects.count()
    url = reverse("milestone-complete", kwargs={"milestone_id": hand_back.pk})
    assert client.post(url, {"actual_on": "2027-02-01"}).status_code == 403
    assert client.post(comment_url(world.shared_patient), {"body": "hi", "site": world.center.pk}).status_code == 403
    hand_back.refresh_from_db()
    assert hand_back.status == Milestone.Status.PLANNED and hand_back.actual_on is None
    assert TimelineEntry.objects.count() == entries


# What the page shows


def test_event_dates_show_day_relative_to_infusion(community_oncologist_client: Client, world: World) -> None:
    infused_referral(world)
    patient = world.shared_patient
    timeline_record(
        patient=patient, kind="toxicity", title="Fever 38.4", occurred_at=dt.datetime(2027, 1, 25, 15, tzinfo=dt.UTC)
    )
    timeline_record(
        patient=patient, kind="milestone", title="Fludarabine", occurred_at=dt.datetime(2027, 1, 8, 15, tzinfo=dt.UTC)
    )
    html = squash(html_of(community_oncologist_client.get(timeline_url(patient))))
    assert re.search(r'datetime="2027-01-25">Mon 25 Jan 2027</time> <span class="daytag">day \+14</span>', html)
    assert re.search(r'datetime="2027-01-08">Fri 8 Jan 2027</time> <span class="daytag">day -3</span>', html)
    assert html.index("Fludarabine") < html.index("Fever 38.4")


def test_event_times_are_shown_in_the_viewers_site_time_zone(client: Client, world: World) -> None:
    world.center.time_zone = "America/New_York"
    world.center.save()
    timeline_record(
        patient=world.shared_patient,
        kind="comment",
        title="Late call",
        occurred_at=dt.datetime(2027, 1, 25, 3, 30, tzinfo=dt.UTC),
    )
    login(client, world.center_coordinator)
    center_html = html_of(client.get(timeline_url(world.shared_patient)))
    assert '<time class="tl-entry__time" datetime="2027-01-24T22:30:00-05:00">22:30</time>' in center_html
    login(client, world.community_oncologist)
    practice_html = html_of(client.get(timeline_url(world.shared_patient)))
    assert '<time class="tl-entry__time" datetime="2027-01-24T21:30:00-06:00">21:30</time>' in practice_html


def test_header_shows_product_infusion_date_and_todays_day(client: Client, world: World) -> None:
    referral = infused_referral(world)
    with time_machine.travel(DAY_AFTER_INFUSION, tick=False):
        infusion = milestone(referral, MilestoneKind.INFUSION)
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=INFUSION)
    # Not the seeded catalog: a live-server test run before this one may have flushed it.
    product, _ = Product.objects.get_or_create(
        brand_name="Yescarta",
        defaults={
            "generic_name": "axicabtagene ciloleucel",
            "short_name": "axi-cel",
            "target": Product.Target.CD19,
            "disease_areas": ["lbcl", "fl"],
        },
    )
    Referral.objects.filter(pk=referral.pk).update(product=product)
    with time_machine.travel(dt.datetime(2027, 1, 25, 18, 0, tzinfo=dt.UTC), tick=False):
        login(client, world.community_oncologist)
        html = squash(html_of(client.get(timeline_url(world.shared_patient))))
    assert "Sharedcare, Sharon" in html
    assert 'Yescarta <span class="muted">(axi-cel)</span>' in html
    assert "Mon 11 Jan 2027" in html
    assert "<dt>Today</dt><dd><strong>day +14</strong>" in html


def test_what_comes_next_shows_the_next_milestone_and_flags_overdue_ones(client: Client, world: World) -> None:
    referral = infused_referral(world)
    with time_machine.travel(DAY_AFTER_INFUSION, tick=False):
        login(client, world.community_oncologist)
        response = client.get(timeline_url(world.shared_patient))
    upcoming = response.context["upcoming"]
    assert upcoming[0][0] == milestone(referral, MilestoneKind.DAILY_MONITORING_END)
    next_html = squash(html_of(response).split('id="next-heading"')[1].split("</section>")[0])
    assert "Daily monitoring ends" in next_html
    assert '<span class="daytag">day +7</span>' in next_html
    # The infusion and lymphodepletion were never marked done: they are overdue.
    assert "Overdue" in next_html
    assert "Infusion" in next_html and "1 day late" in next_html


def test_phase_strip_marks_the_current_phase(community_oncologist_client: Client, world: World) -> None:
    # Apheresis done: the cells are being manufactured.
    referral = accepted_referral(world)
    done_on = timezone.localdate() - dt.timedelta(days=3)
    apheresis = milestone_plan(actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=done_on)
    milestone_complete(actor=world.center_coordinator, milestone=apheresis, actual_on=done_on)
    html = squash(html_of(community_oncologist_client.get(timeline_url(world.shared_patient))))
    current = re.findall(r'<li class="tl-phase tl-phase--current" aria-current="step">(.*?)</li>', html)
    assert len(current) == 1 and "Manufacturing" in current[0] and "(current phase)" in current[0]
    # The referral's four phases and the apheresis are done; no authorization was ever recorded.
    assert html.count("tl-phase--past") == list(Phase).index(Phase.MANUFACTURING) - 1
    assert html.count("tl-phase--unrecorded") == 1
    assert 'Insurance authorization</span> <span class="visually-hidden">(not recorded)</span>' in html
    assert html.count("tl-phase--future") == len(Phase) - list(Phase).index(Phase.MANUFACTURING) - 1


def test_phase_strip_never_shows_a_step_done_that_was_only_planned(
    community_oncologist_client: Client, world: World
) -> None:
    # Apheresis and the infusion were planned and their days have passed: nothing was recorded.
    referral = accepted_referral(world)
    today = timezone.localdate(timezone.now(), world.center.zone)
    milestone_plan(
        actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=today - dt.timedelta(days=20)
    )
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=today - dt.timedelta(days=2))
    html = squash(html_of(community_oncologist_client.get(timeline_url(world.shared_patient))))
    strip = html.split('class="tl-phases__list"')[1].split("</ol>")[0]
    current = re.findall(r'<li class="tl-phase tl-phase--current" aria-current="step">(.*?)</li>', strip)
    assert len(current) == 1 and "Infusion (day 0)" in current[0]
    overdue = re.findall(r'<li class="tl-phase tl-phase--overdue">(.*?)</li>', strip)
    assert [
        label for label in ("Apheresis", "Manufacturing", "Lymphodepletion") if any(label in o for o in overdue)
    ] == [
        "Apheresis",
        "Manufacturing",
        "Lymphodepletion",
    ]
    assert all('<span class="tl-phase__flag">overdue</span>' in o and "not recorded as done" in o for o in overdue)
    # Only the referral's own four phases are done.
    assert strip.count("tl-phase--past") == 4
    assert "(done)" not in strip.split("Insurance authorization")[1]


def test_point_persons_and_24_7_numbers_are_tel_links(community_oncologist_client: Client, world: World) -> None:
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.practice)
    care_team_name_point_person(
        actor=world.community_coordinator, link=link, user=world.community_oncologist, rank=PointPerson.Rank.PRIMARY
    )
    html = html_of(community_oncologist_client.get(timeline_url(world.shared_patient)))
    contacts = html.split('id="contacts-heading"')[1].split("</section>")[0]
    assert '<a href="tel:+15551002400">+1 555 100 2400</a>' in contacts  # the center's 24/7 line
    assert "Olive Oncologist" in contacts and 'href="tel:+13125550111"' in contacts


# Milestone actions


def test_marking_a_milestone_done_redirects_to_the_timeline_with_a_message(
    center_coordinator_client: Client, world: World
) -> None:
    referral = infused_referral(world)
    infusion = milestone(referral, MilestoneKind.INFUSION)
    with time_machine.travel(DAY_AFTER_INFUSION, tick=False):
        login(center_coordinator_client, world.center_coordinator)
        response = center_coordinator_client.post(
            reverse("milestone-complete", kwargs={"milestone_id": infusion.pk}),
            {"actual_on": "2027-01-11"},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == milestone_row_url(world.shared_patient.pk, infusion.pk)
    html = html_of(response)
    assert "Infusion: done on 11 Jan 2027." in html
    assert "Infusion done on 11 Jan 2027<" in html  # the day is the table's, live, not baked in
    infusion.refresh_from_db()
    assert infusion.status == Milestone.Status.DONE and infusion.actual_on == INFUSION


def test_moving_a_milestone_without_a_reason_shows_the_error_next_to_the_field(
    center_coordinator_client: Client, world: World
) -> None:
    referral = infused_referral(world)
    hand_back = milestone(referral, MilestoneKind.HAND_BACK)
    response = center_coordinator_client.post(
        reverse("milestone-move", kwargs={"milestone_id": hand_back.pk}), {"planned_on": "2027-02-05", "reason": "  "}
    )
    assert response.status_code == 400
    html = squash(html_of(response))
    field_id = f"id_move{hand_back.pk}_reason"
    assert f'<p class="field__error" id="{field_id}_error">Say why the date moves.</p>' in html
    assert re.search(rf'<input[^>]*aria-invalid="true"[^>]*id="{field_id}"', html)
    assert '<details class="tl-action" open> <summary>Update<span class="visually-hidden"> Hand-back' in html
    hand_back.refresh_from_db()
    assert hand_back.planned_on == INFUSION + dt.timedelta(days=21)


def test_moving_a_milestone_with_a_reason_keeps_the_new_date(center_coordinator_client: Client, world: World) -> None:
    referral = infused_referral(world)
    hand_back = milestone(referral, MilestoneKind.HAND_BACK)
    response = center_coordinator_client.post(
        reverse("milestone-move", kwargs={"milestone_id": hand_back.pk}),
        {"planned_on": "2027-02-05", "reason": "Patient asked for a later date"},
    )
    assert response.status_code == 302
    hand_back.refresh_from_db()
    assert hand_back.planned_on == dt.date(2027, 2, 5) and hand_back.manual


def test_cancelling_needs_a_reason(center_coordinator_client: Client, world: World) -> None:
    referral = infused_referral(world)
    visit = milestone(referral, MilestoneKind.VISIT_DAY_60)
    url = reverse("milestone-cancel", kwargs={"milestone_id": visit.pk})
    response = center_coordinator_client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Say why the milestone is cancelled." in html_of(response)
    assert center_coordinator_client.post(url, {"reason": "Seen at day 45 instead"}).status_code == 302
    visit.refresh_from_db()
    assert visit.status == Milestone.Status.CANCELLED


def test_setting_the_infusion_date_recomputes_dependent_milestones(
    center_coordinator_client: Client, world: World
) -> None:
    referral = accepted_referral(world)
    url = reverse("referral-infusion", kwargs={"referral_id": referral.pk})
    assert center_coordinator_client.post(url, {"infusion_on": "2027-01-11"}).status_code == 302
    assert milestone(referral, MilestoneKind.HAND_BACK).planned_on == dt.date(2027, 2, 1)

    refused = center_coordinator_client.post(url, {"infusion_on": "2027-01-18"})
    assert refused.status_code == 400
    assert "Say why the infusion date moves." in html_of(refused)
    assert milestone(referral, MilestoneKind.HAND_BACK).planned_on == dt.date(2027, 2, 1)

    moved = center_coordinator_client.post(url, {"infusion_on": "2027-01-18", "reason": "Product release delayed"})
    assert moved.status_code == 302
    assert milestone(referral, MilestoneKind.HAND_BACK).planned_on == dt.date(2027, 2, 8)
    assert milestone(referral, MilestoneKind.LYMPHODEPLETION_START).planned_on == dt.date(2027, 1, 13)


def test_planning_a_preparation_step_adds_it_to_the_milestones(
    community_oncologist_client: Client, world: World
) -> None:
    referral = accepted_referral(world)
    response = community_oncologist_client.post(
        reverse("milestone-plan", kwargs={"referral_id": referral.pk}),
        {"kind": PreparationKind.BRIDGING_THERAPY.value, "planned_on": "2026-12-20", "given_at": world.practice.pk},
        follow=True,
    )
    bridging = milestone(referral, PreparationKind.BRIDGING_THERAPY)
    assert bridging.planned_on == dt.date(2026, 12, 20) and bridging.given_at == world.practice
    assert "Bridging therapy: planned for 20 Dec 2026." in html_of(response)


def test_planning_with_a_missing_date_shows_the_error(center_coordinator_client: Client, world: World) -> None:
    referral = accepted_referral(world)
    response = center_coordinator_client.post(
        reverse("milestone-plan", kwargs={"referral_id": referral.pk}), {"kind": PreparationKind.APHERESIS.value}
    )
    assert response.status_code == 400
    html = squash(html_of(response))
    assert f'id="id_plan{referral.pk}_planned_on_error"' in html
    block = html.split(f'id="referral-{referral.pk}"')[1]
    assert '<details class="tl-action" open> <summary>Plan a preparation step</summary> <form method="post"' in block
    # Day 0 still opens its form when asked.
    assert 'hx-get="' + reverse("referral-infusion-form", kwargs={"referral_id": referral.pk}) in block


def test_a_referrals_forms_load_when_opened_for_htmx_and_as_a_page_without_it(
    center_coordinator_client: Client, world: World
) -> None:
    referral = infused_referral(world)
    infusion_url = reverse("referral-infusion-form", kwargs={"referral_id": referral.pk})
    plan_url = reverse("milestone-plan-form", kwargs={"referral_id": referral.pk})
    html = html_of(center_coordinator_client.get(timeline_url(world.shared_patient)))
    for url, opens in ((infusion_url, "Move day 0…"), (plan_url, "Plan a step…")):
        assert f'href="{url}" hx-get="{url}" hx-target="this" hx-swap="outerHTML">{opens}</a>' in html
    day_zero = center_coordinator_client.get(infusion_url, headers=HTMX)
    assert day_zero.status_code == 200 and day_zero["Vary"].count("HX-Request") == 1
    fragment = squash(html_of(day_zero))
    assert "<html" not in fragment and "csrfmiddlewaretoken" in fragment
    posts_to = reverse("referral-infusion", kwargs={"referral_id": referral.pk})
    assert f'<form method="post" action="{posts_to}"' in fragment
    field = re.search(r'<input type="date" name="infusion_on" value="2027-01-11"[^>]*>', fragment)
    assert field is not None and " autofocus" in field.group(0) and 'name="reason"' in fragment
    plan = squash(html_of(center_coordinator_client.get(plan_url, headers=HTMX)))
    assert f'action="{reverse("milestone-plan", kwargs={"referral_id": referral.pk})}"' in plan
    assert re.search(r'<select name="kind"[^>]* autofocus', plan) and world.practice.name in plan
    page = html_of(center_coordinator_client.get(plan_url))
    assert "<html" in page and "<h1>Plan a preparation step</h1>" in page and 'name="planned_on"' in page
    assert f'href="{timeline_url(world.shared_patient)}#referral-{referral.pk}">Timeline</a>' in page


@pytest.mark.parametrize("who", ["community_coordinator", "community_oncologist"])
def test_the_practice_is_not_offered_day_0_and_a_post_is_refused_with_nothing_changed(
    client: Client, world: World, who: str
) -> None:
    """Day 0 is the center's to set and move: the practice plans its steps, but sees no day 0
    control, may not open its form, and a post anyway is refused saying why."""
    referral = infused_referral(world)
    login(client, getattr(world, who))
    html = html_of(client.get(timeline_url(world.shared_patient)))
    block = html.split(f'id="referral-{referral.pk}"')[1]
    assert "Plan a step…" in block
    assert "infusion date" not in block and "day 0…" not in block
    assert reverse("referral-infusion-form", kwargs={"referral_id": referral.pk}) not in html
    every = html_of(client.get(milestones_url(world.shared_patient)))
    assert "Plan a step…" in every and "day 0…" not in every
    form_url_ = reverse("referral-infusion-form", kwargs={"referral_id": referral.pk})
    assert client.get(form_url_, headers=HTMX).status_code == 403 and client.get(form_url_).status_code == 403

    course = list(Milestone.objects.order_by("pk").values_list("kind", "planned_on", "status"))
    entries = TimelineEntry.objects.count()
    url = reverse("referral-infusion", kwargs={"referral_id": referral.pk})
    refused = client.post(url, {"infusion_on": "2027-01-18", "reason": "Product release delayed"})
    assert refused.status_code == 403
    assert f"Only the staff of {world.center.name} who record care set or move the infusion date" in html_of(refused)
    assert list(Milestone.objects.order_by("pk").values_list("kind", "planned_on", "status")) == course
    assert TimelineEntry.objects.count() == entries


def test_once_the_infusion_is_done_day_0_is_no_longer_offered(center_coordinator_client: Client, world: World) -> None:
    referral = infused_referral(world)
    with time_machine.travel(DAY_AFTER_INFUSION, tick=False):
        infusion = milestone(referral, MilestoneKind.INFUSION)
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=INFUSION)
    html = html_of(center_coordinator_client.get(timeline_url(world.shared_patient)))
    block = html.split(f'id="referral-{referral.pk}"')[1]
    assert "Plan a step…" in block
    assert "Move the infusion date" not in block and "day 0…" not in block
    form_url_ = reverse("referral-infusion-form", kwargs={"referral_id": referral.pk})
    assert form_url_ not in html
    opened = html_of(center_coordinator_client.get(form_url_, headers=HTMX))
    assert 'name="infusion_on"' not in opened and "reload it" not in opened
    assert "Day 0 is fixed: the infusion was recorded as done on 11 Jan 2027." in opened


def test_a_day_0_form_opened_before_the_infusion_was_done_says_day_0_is_fixed_when_posted(
    center_coordinator_client: Client, world: World
) -> None:
    """The form was open on the timeline when someone recorded the infusion done: posting it
    changes nothing and says why, with the day it was done (not "the referral has changed")."""
    referral = infused_referral(world)
    form_url_ = reverse("referral-infusion-form", kwargs={"referral_id": referral.pk})
    assert 'name="infusion_on"' in html_of(center_coordinator_client.get(form_url_, headers=HTMX))
    with time_machine.travel(DAY_AFTER_INFUSION, tick=False):
        infusion = milestone(referral, MilestoneKind.INFUSION)
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=INFUSION)
    course = list(Milestone.objects.order_by("pk").values_list("kind", "planned_on", "status"))
    entries = TimelineEntry.objects.count()
    url = reverse("referral-infusion", kwargs={"referral_id": referral.pk})
    refused = center_coordinator_client.post(url, {"infusion_on": "2027-01-18", "reason": "Product release delayed"})
    assert refused.status_code == 409
    html = html_of(refused)
    assert "Day 0 is fixed: the infusion was recorded as done on 11 Jan 2027." in html
    assert "reload it" not in html and "That did not go through" not in html
    assert list(Milestone.objects.order_by("pk").values_list("kind", "planned_on", "status")) == course
    assert TimelineEntry.objects.count() == entries


def test_a_reader_and_an_outsider_may_not_open_a_referrals_forms(client: Client, world: World) -> None:
    referral = infused_referral(world)
    names = ("referral-infusion-form", "milestone-plan-form")
    urls = [reverse(name, kwargs={"referral_id": referral.pk}) for name in names]
    login(client, member(world.center, Role.READ_ONLY, email="reader@lakeside.test"))
    html = html_of(client.get(timeline_url(world.shared_patient)))
    assert "day 0…" not in html and "Plan a step…" not in html
    for url in urls:
        assert client.get(url, headers=HTMX).status_code == 403
    login(client, world.outsider)
    for url in urls:
        assert client.get(url, headers=HTMX).status_code == 404 and client.get(url).status_code == 404


def test_a_get_on_a_milestone_action_is_not_allowed(center_coordinator_client: Client, world: World) -> None:
    referral = infused_referral(world)
    for url in _action_urls(referral):
        assert center_coordinator_client.get(url).status_code == 405


# Comments


def test_comment_via_htmx_returns_the_thread_partial_containing_the_comment(
    community_oncologist_client: Client, world: World
) -> None:
    response = community_oncologist_client.post(
        comment_url(world.shared_patient),
        {"body": "Counts recovering, ANC 1.2", "site": world.practice.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html
    assert html.lstrip().startswith('<section class="card tl-thread" id="thread"')
    assert html.count("Counts recovering, ANC 1.2") == 2  # in the thread and in the events sent out of band
    assert 'id="events" aria-labelledby="events-heading" hx-swap-oob="true"' in html
    assert 'role="status">Your comment is on the timeline.' in html
    entry = TimelineEntry.objects.get(kind=TimelineEntry.Kind.COMMENT)
    assert entry.actor == world.community_oncologist and entry.site == world.practice


def test_comment_without_javascript_redirects_back_to_the_thread(
    center_coordinator_client: Client, world: World
) -> None:
    response = center_coordinator_client.post(
        comment_url(world.shared_patient), {"body": "Consult went well.", "site": world.center.pk}, follow=True
    )
    assert response.redirect_chain == [(timeline_url(world.shared_patient) + "#thread", 302)]
    html = html_of(response)
    assert "Your comment is on the timeline." in html
    thread = html.split('id="thread-heading"')[1].split("</section>")[0]
    assert "Consult went well." in thread and "Lakeside CAR-T Center" in thread


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_empty_comment_shows_the_error_on_the_field(
    community_oncologist_client: Client, world: World, htmx: bool
) -> None:
    response = community_oncologist_client.post(
        comment_url(world.shared_patient),
        {"body": "   ", "site": world.practice.pk},
        headers={"HX-Request": "true"} if htmx else None,
    )
    assert response.status_code == (200 if htmx else 400)
    html = html_of(response)
    assert '<p class="field__error" id="id_comment_body_error">Write a message.</p>' in html
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*id="id_comment_body"', html)
    assert not TimelineEntry.objects.filter(kind=TimelineEntry.Kind.COMMENT).exists()


def test_comment_as_a_site_the_writer_does_not_work_at_is_refused(
    community_oncologist_client: Client, world: World
) -> None:
    response = community_oncologist_client.post(
        comment_url(world.shared_patient), {"body": "Pretending", "site": world.center.pk}
    )
    assert response.status_code == 400
    assert not TimelineEntry.objects.filter(kind=TimelineEntry.Kind.COMMENT).exists()


# The header: what is happening now


def now_section(html: str) -> str:
    return squash(html.split('class="card tl-now"')[1].split("</section>")[0])


def test_header_shows_active_toxicities_with_grade_onset_day_and_who_acknowledged(client: Client, world: World) -> None:
    today = timezone.localdate(timezone=world.center.zone)
    infused(world, today - dt.timedelta(days=3))
    event = grade_2_event(world)
    resolved = grade_2_event(world)
    toxicity_resolve(
        actor=world.center_coordinator, event=resolved, site=world.center, resolved_on=today, outcome="recovered"
    )
    timed = ToxicityEvent.objects.with_timing().get(pk=event.pk)
    assert timed.day_label.startswith("day +")

    login(client, world.community_oncologist)
    now = now_section(html_of(client.get(timeline_url(world.shared_patient))))

    event_url = reverse("toxicity-event", kwargs={"event_id": event.pk})
    assert f'<a href="{event_url}"><strong>Cytokine release syndrome (CRS), grade 2</strong></a>' in now
    assert timed.day_label in now and "since" in now
    # Recorded at the center: acknowledged there on recording; the practice has not seen it yet.
    assert (
        "Acknowledged by Cora Center (Lakeside CAR-T Center, grade 2); "
        '<strong class="tl-now__waiting">Not yet acknowledged at Riverbend Oncology</strong>'
    ) in now
    assert reverse("toxicity-event", kwargs={"event_id": resolved.pk}) not in now  # resolved: not active
    assert 'Active toxicities <span class="tl-count">1</span>' in now

    alert = Alert.objects.unacknowledged().get(event=event, site=world.practice, recipient=world.community_oncologist)
    alert_acknowledge(actor=world.community_oncologist, alert=alert)
    now = now_section(html_of(client.get(timeline_url(world.shared_patient))))
    assert "Acknowledged by Olive Oncologist (Riverbend Oncology, grade 2)" in now
    assert "Not yet acknowledged" not in now


def test_header_shows_the_next_step_and_the_hand_offs_not_yet_acknowledged(client: Client, world: World) -> None:
    infused_referral(world)
    name_point_persons(world)
    handoff = sent_handoff(world)
    with time_machine.travel(DAY_AFTER_INFUSION, tick=False):
        login(client, world.community_oncologist)
        response = client.get(timeline_url(world.shared_patient))
    now = now_section(html_of(response))
    handoff_url = reverse("handoff-detail", kwargs={"handoff_id": handoff.pk})
    assert f'<a href="{handoff_url}">' in now
    assert "Lakeside CAR-T Center → Riverbend Oncology" in now and "not yet acknowledged, overdue" in now
    # The next step: the first overdue milestone (the infusion was never marked done), else the next planned.
    first_overdue = response.context["overdue"][0][0]
    assert f'<h3>Next step</h3> <p><a href="#milestone-{first_overdue.pk}">' in now
    assert "None active." in now

    handoff_acknowledge(actor=world.community_oncologist, handoff=handoff)
    assert Handoff.objects.get(pk=handoff.pk).state == Handoff.State.ACKNOWLEDGED
    now = now_section(html_of(client.get(timeline_url(world.shared_patient))))
    assert handoff_url not in now and "None waiting." in now


def test_an_outsider_never_sees_the_header_of_a_patient_they_cannot_see(outsider_client: Client, world: World) -> None:
    grade_2_event(world)
    sent_handoff(world)
    for url in (timeline_url(world.shared_patient), earlier_url(world.shared_patient)):
        response = outsider_client.get(url)
        assert response.status_code == 404
        assert b"Cytokine" not in response.content and b"Active toxicities" not in response.content
        assert b"Sharedcare" not in response.content and b"transition to community" not in response.content


def test_every_history_entry_links_to_its_object_page(client: Client, world: World) -> None:
    referral = infused_referral(world)
    event = grade_2_event(world)
    handoff = sent_handoff(world)
    comment_post(actor=world.community_oncologist, patient=world.shared_patient, site=world.practice, body="Hi")
    login(client, world.community_oncologist)
    html = squash(html_of(client.get(timeline_url(world.shared_patient))))
    events = html.split('id="events"')[1]
    infusion = milestone(referral, MilestoneKind.INFUSION)
    expected = {
        "referral": reverse("referral-detail", kwargs={"referral_id": referral.pk}),
        "milestone": milestone_row_url(world.shared_patient.pk, infusion.pk),
        "toxicity": reverse("toxicity-event", kwargs={"event_id": event.pk}),
        "handoff": reverse("handoff-detail", kwargs={"handoff_id": handoff.pk}),
        "care_team": reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk}),
    }
    titles = re.findall(r'<span class="kind kind--(\w+)">[^<]*</span> (<a href="([^"]+)">)?', events)
    seen: dict[str, set[str]] = {}
    for kind, _anchor, link in titles:
        seen.setdefault(kind, set()).add(link)
    for kind, url in expected.items():
        assert url in seen.get(kind, set()), (kind, seen.get(kind))
    assert seen["comment"] == {""}  # a comment is its own page: the thread beside
    for kind in ("referral", "milestone", "toxicity", "handoff", "care_team"):
        assert "" not in seen[kind], kind
    assert f'id="milestone-{infusion.pk}"' in html  # the anchor the milestone entries point to


def test_an_entry_written_before_entries_named_their_subject_links_by_its_kind(client: Client, world: World) -> None:
    for kind in (TimelineEntry.Kind.MILESTONE, TimelineEntry.Kind.HANDOFF, TimelineEntry.Kind.TOXICITY):
        timeline_record(patient=world.shared_patient, kind=kind, title=f"Old {kind} entry")
    login(client, world.community_oncologist)
    events = squash(html_of(client.get(timeline_url(world.shared_patient)))).split('id="events"')[1]
    milestones = f"{timeline_url(world.shared_patient)}#milestones"
    handoffs = reverse("handoff-list", kwargs={"patient_id": world.shared_patient.pk})
    assert f'<a href="{milestones}">Old milestone entry</a>' in events
    assert f'<a href="{handoffs}">Old handoff entry</a>' in events
    assert "</span> Old toxicity entry</p>" in events  # no page to name without its event


# Speed


def _timeline_queries(client: Client, patient: Patient) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(timeline_url(patient))
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def add_events(world: World, count: int, start: dt.datetime, every: dt.timedelta) -> None:
    """`count` comments and milestone entries from both sites, `every` apart from `start`."""
    people = [(world.center_coordinator, world.center), (world.community_oncologist, world.practice)]
    for n in range(count):
        actor, site = people[n % 2]
        timeline_record(
            patient=world.shared_patient,
            kind=TimelineEntry.Kind.COMMENT if n % 3 else TimelineEntry.Kind.MILESTONE,
            title=f"Event {n}",
            body="Details",
            actor=actor,
            site=site,
            occurred_at=start + n * every,
        )


def test_timeline_queries_do_not_grow_with_the_record(client: Client, world: World, tmp_media: object) -> None:
    """More milestones (planned, done, moved), toxicities with assessments, treatments and alerts,
    documents, hand-offs, comments, events older and newer than 30 days, a third care-team site:
    the same queries."""
    record = small_record(world)
    login(client, world.center_coordinator)
    client.get(timeline_url(world.shared_patient))  # warm the caches (content types, site groups)
    few = _timeline_queries(client, world.shared_patient)
    header = client.get(timeline_url(world.shared_patient)).context["header"]
    assert (len(header.toxicities), len(header.handoffs)) == (1, 1)

    grow_record(record)
    add_events(world, 300, timezone.now() - dt.timedelta(days=90), dt.timedelta(hours=7))
    assert Milestone.objects.filter(referral__patient=world.shared_patient).count() > 40
    response = client.get(timeline_url(world.shared_patient))
    assert response.context["earlier_count"] > 100 and len(response.context["groups"]) > 20
    assert len(response.context["contacts"]) == 3
    # More active toxicities and open hand-offs in the header: still the same queries.
    header = response.context["header"]
    assert (len(header.toxicities), len(header.handoffs)) == (3, 2)
    many = _timeline_queries(client, world.shared_patient)
    assert len(many) == len(few), "\n".join(many)


def test_every_milestone_loads_in_the_same_queries_whatever_their_number(client: Client, world: World) -> None:
    referral = accepted_referral(world)
    login(client, world.center_coordinator)
    url = milestones_url(world.shared_patient)
    client.get(url, headers=HTMX)  # warm the caches (content types, site groups)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, headers=HTMX).content.count(b'<tr role="row" id="milestone-') < 5
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=INFUSION)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url, headers=HTMX).content.count(b'<tr role="row" id="milestone-') > 40
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_page_renders_no_milestone_form_until_one_is_opened(
    center_coordinator_client: Client, world: World
) -> None:
    referral = infused_referral(world)
    planned = Milestone.objects.filter(referral=referral, status=Milestone.Status.PLANNED)
    html = html_of(center_coordinator_client.get(timeline_url(world.shared_patient)))
    assert planned.count() > 40
    # Only the message form and the lab results' paste form: the referral's own load when opened too.
    assert html.count("<form ") - html.count('action="/logout/"') == 2
    shown = [m for m in planned if f'id="milestone-{m.pk}"' in html]
    assert 0 < len(shown) < 10 and html.count("Mark done…") == len(shown)
    infusion = milestone(referral, MilestoneKind.INFUSION)
    url = form_url("move", milestone(referral, MilestoneKind.LYMPHODEPLETION_START))
    assert f'<a class="button button--quiet tl-action__open" href="{url}" hx-get="{url}"' in html
    assert form_url("complete", infusion) in html and form_url("move", infusion) not in html  # day 0 moves apart
    # Every milestone's actions, with the whole table; still no form until one is opened.
    every = html_of(center_coordinator_client.get(milestones_url(world.shared_patient), headers=HTMX))
    assert every.count("Mark done…") == planned.count()
    assert every.count("<form ") == 0
    hand_back = form_url("move", milestone(referral, MilestoneKind.HAND_BACK))
    assert f'<a class="button button--quiet tl-action__open" href="{hand_back}" hx-get="{hand_back}"' in every


def test_the_table_shows_what_matters_now_and_every_milestone_on_demand(client: Client, world: World) -> None:
    """On day +68: overdue steps, the next planned ones, and a visit done last week are on the
    page; the infusion done two months ago and the yearly visits wait behind "Show all
    milestones", which brings every one of them (htmx: the section alone; else a page)."""
    referral = infused_referral(world)
    infusion = milestone(referral, MilestoneKind.INFUSION)
    visit_60 = milestone(referral, MilestoneKind.VISIT_DAY_60)
    year_1 = milestone(referral, MilestoneKind.VISIT_YEAR_1)
    with time_machine.travel(dt.datetime(2027, 3, 20, 18, tzinfo=dt.UTC), tick=False):
        today = dt.date(2027, 3, 20)
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=INFUSION)
        milestone_complete(actor=world.center_coordinator, milestone=visit_60, actual_on=dt.date(2027, 3, 12))
        login(client, world.center_coordinator)
        html = html_of(client.get(timeline_url(world.shared_patient)))
        every = client.get(milestones_url(world.shared_patient), headers=HTMX)
        page = html_of(client.get(milestones_url(world.shared_patient)))
        asked = html_of(client.get(timeline_url(world.shared_patient), {"milestone": year_1.pk}))
    table = html.split('id="milestones"')[1]
    planned = Milestone.objects.filter(referral=referral, status=Milestone.Status.PLANNED)
    overdue = list(planned.filter(planned_on__lt=today))
    upcoming = list(planned.filter(planned_on__gte=today).order_by("planned_on", "pk"))
    assert len(overdue) > 5
    for shown in (*overdue, *upcoming[:5], visit_60):
        assert f'id="milestone-{shown.pk}"' in table, shown.kind
    for folded in (infusion, year_1, upcoming[-1]):
        assert f'id="milestone-{folded.pk}"' not in table, folded.kind
    folded_count = Milestone.objects.filter(referral=referral).count() - table.count('<tr role="row" id="milestone-')
    assert folded_count > 20
    url = milestones_url(world.shared_patient)
    assert f'href="{url}" hx-get="{url}" hx-target="#milestones" hx-swap="outerHTML">Show all milestones</a>' in table
    assert f"{folded_count} more, done earlier or planned later" in squash(table)

    assert every.status_code == 200 and every["Vary"].count("HX-Request") == 1
    fragment = html_of(every)
    assert "<html" not in fragment and fragment.lstrip().startswith("{#") is False
    assert '<section class="tl-milestones" id="milestones"' in fragment and "autofocus" in fragment
    for each in Milestone.objects.filter(referral=referral):
        assert f'id="milestone-{each.pk}"' in fragment, each.kind
    assert "Show all milestones" not in fragment
    assert "<html" in page and '<h1 id="milestones-heading">Milestones</h1>' in page
    assert f'id="milestone-{year_1.pk}"' in page and "Back to the timeline" in page
    # A link to one milestone (an entry of the history, a recorded action) shows its row.
    assert f'id="milestone-{year_1.pk}"' in asked.split('id="milestones"')[1]


@pytest.mark.parametrize("asked", ["abc", "-1", "99999999999999999999", "\uff11\uff12"])
def test_a_milestone_asked_for_that_is_not_one_is_ignored(client: Client, world: World, asked: str) -> None:
    infused_referral(world)
    login(client, world.center_coordinator)
    assert client.get(timeline_url(world.shared_patient), {"milestone": asked}).status_code == 200


def form_url(action: str, target: Milestone) -> str:
    return reverse(f"milestone-{action}-form", kwargs={"milestone_id": target.pk})


HTMX = {"HX-Request": "true"}


def test_an_opened_form_comes_alone_for_htmx_and_as_a_page_without_it(
    center_coordinator_client: Client, world: World
) -> None:
    referral = infused_referral(world)
    hand_back = milestone(referral, MilestoneKind.HAND_BACK)
    fragment = center_coordinator_client.get(form_url("move", hand_back), headers=HTMX)
    assert fragment.status_code == 200 and fragment["Vary"].count("HX-Request") == 1
    html = squash(html_of(fragment))
    assert "<html" not in html and "csrfmiddlewaretoken" in html
    assert f'<form method="post" action="{reverse("milestone-move", kwargs={"milestone_id": hand_back.pk})}"' in html
    # The first field takes the focus in place of the link that opened the form.
    field = re.search(
        rf'<input type="date" name="planned_on" value="2027-02-01"[^>]*id="id_move{hand_back.pk}_[^>]*>', html
    )
    assert field is not None and " autofocus" in field.group(0)
    page = html_of(center_coordinator_client.get(form_url("move", hand_back)))
    assert "<html" in page and "Hand-back to the community" in page and 'name="planned_on"' in page
    assert f'href="{milestone_row_url(world.shared_patient.pk, hand_back.pk)}">Timeline</a>' in page
    done = squash(html_of(center_coordinator_client.get(form_url("complete", hand_back), headers=HTMX)))
    assert f'value="{timezone.localdate(timezone=world.center.zone).isoformat()}"' in done


def test_an_action_a_milestone_no_longer_offers_says_so(center_coordinator_client: Client, world: World) -> None:
    referral = infused_referral(world)
    infusion = milestone(referral, MilestoneKind.INFUSION)
    for action, target in (("move", infusion), ("confirm", milestone(referral, MilestoneKind.HAND_BACK))):
        response = center_coordinator_client.get(form_url(action, target), headers=HTMX)
        assert response.status_code == 200
        assert "<form" not in html_of(response) and "has changed since the timeline was loaded" in html_of(response)


def test_an_opened_form_posts_and_its_errors_come_back_on_the_page_with_the_form_open(
    center_coordinator_client: Client, world: World
) -> None:
    referral = infused_referral(world)
    visit = milestone(referral, MilestoneKind.VISIT_DAY_60)
    fragment = html_of(center_coordinator_client.get(form_url("cancel", visit), headers=HTMX))
    action = re.search(r'<form method="post" action="([^"]+)"', fragment)
    assert action is not None and re.search(r'name="reason"', fragment)
    refused = center_coordinator_client.post(action.group(1), {"reason": " "})
    assert refused.status_code == 400
    html = squash(html_of(refused))
    row = html.split(f'id="milestone-{visit.pk}"')[1].split("</tr>")[0]
    assert '<details class="tl-action" open>' in row
    assert (
        f'<p class="field__error" id="id_cancel{visit.pk}_reason_error">Say why the milestone is cancelled.</p>' in row
    )
    field = re.search(rf'<input[^>]*id="id_cancel{visit.pk}_reason"[^>]*>', row)
    assert field is not None and 'aria-invalid="true"' in field.group(0) and " autofocus" in field.group(0)
    # The row's other actions still open their forms when asked.
    assert f'href="{form_url("complete", visit)}"' in row and "Mark done…" in row
    done = center_coordinator_client.post(action.group(1), {"reason": "Seen at day 45"}, follow=True)
    assert done.redirect_chain[-1][0] == milestone_row_url(world.shared_patient.pk, visit.pk)
    visit.refresh_from_db()
    assert visit.status == Milestone.Status.CANCELLED


def test_a_reader_may_not_open_the_forms(client: Client, world: World) -> None:
    referral = infused_referral(world)
    login(client, member(world.center, Role.READ_ONLY, email="reader@lakeside.test"))
    hand_back = milestone(referral, MilestoneKind.HAND_BACK)
    assert "/form/" not in html_of(client.get(timeline_url(world.shared_patient)))
    for action in ("complete", "move", "cancel"):
        assert client.get(form_url(action, hand_back), headers=HTMX).status_code == 403


# History: the last 30 days, earlier ones on demand


def earlier_url(patient: Patient, before: dt.date | None = None) -> str:
    url = reverse("patient-timeline-earlier", kwargs={"patient_id": patient.pk})
    return f"{url}?before={before.isoformat()}" if before else url


def test_events_older_than_30_days_wait_behind_show_earlier(community_oncologist_client: Client, world: World) -> None:
    patient = world.shared_patient
    today = timezone.localdate(timezone=world.practice.zone)
    for days_ago, title in ((45, "Old call"), (31, "Just too old"), (30, "Thirty days ago"), (0, "Call of today")):
        timeline_record(
            patient=patient,
            kind="comment",
            title=title,
            occurred_at=dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(12), world.practice.zone),
        )
    response = community_oncologist_client.get(timeline_url(patient))
    events = squash(html_of(response).split('id="events"')[1].split("</section>")[0])
    assert "Thirty days ago" in events and "Call of today" in events
    assert "Old call" not in events and "Just too old" not in events
    since = today - dt.timedelta(days=30)
    assert f'href="{earlier_url(patient, since)}" hx-get="{earlier_url(patient, since)}"' in events
    assert "2 earlier events are behind “Show earlier”" in events
    assert response.context["entry_count"] == TimelineEntry.objects.filter(patient=patient).count()

    earlier = html_of(community_oncologist_client.get(earlier_url(patient, since), headers=HTMX))
    assert "<html" not in earlier and "Show earlier" not in earlier
    assert earlier.index("Old call") < earlier.index("Just too old")
    assert "Thirty days ago" not in earlier and "Call of today" not in earlier
    page = html_of(community_oncologist_client.get(earlier_url(patient, since)))
    assert "<html" in page and "Old call" in page and "Back to the timeline" in page
    assert f'href="{timeline_url(patient)}#events">Timeline</a>' in page


def test_show_earlier_pages_by_day_in_order_with_day_labels(community_oncologist_client: Client, world: World) -> None:
    infused_referral(world)  # day 0 on 11 Jan 2027
    patient = world.shared_patient
    # One event a day at noon in Chicago, from 70 days before the infusion, for 65 days.
    first_day = INFUSION - dt.timedelta(days=70)
    for n in range(65):
        timeline_record(
            patient=patient,
            kind="comment",
            title=f"Day {n}",
            occurred_at=dt.datetime.combine(first_day + dt.timedelta(days=n), dt.time(12), world.practice.zone),
        )
    with time_machine.travel(dt.datetime(2027, 1, 20, 18, tzinfo=dt.UTC), tick=False):
        login(community_oncologist_client, world.community_oncologist)
        page = community_oncologist_client.get(timeline_url(patient))
        since = page.context["recent_since"]
        assert since == dt.date(2026, 12, 21)
        first = squash(html_of(community_oncologist_client.get(earlier_url(patient, since), headers=HTMX)))
        # The thirty latest days with events before 21 Dec (day 49), oldest first; before them,
        # the control that loads the rest.
        titles = re.findall(r"</span> (Day \d+)</p>", first)
        assert titles == [f"Day {n}" for n in range(19, 49)]
        assert first.index('class="tl-earlier"') < first.index("Day 19")
        next_before = first_day + dt.timedelta(days=19)
        assert f'hx-get="{earlier_url(patient, next_before)}"' in first
        assert re.search(r'datetime="2026-11-21">Sat 21 Nov 2026</time> <span class="daytag">day -51</span>', first)
        assert 'tabindex="-1" autofocus' in first.split("Day 19")[0]
        rest = squash(html_of(community_oncologist_client.get(earlier_url(patient, next_before), headers=HTMX)))
    assert re.findall(r"</span> (Day \d+)</p>", rest) == [f"Day {n}" for n in range(19)]
    assert "Show earlier" not in rest


@pytest.mark.parametrize("before", ["yesterday", "2027-02-30", "0001-01-01", "9999-12-31"])
def test_show_earlier_refuses_a_day_that_is_not_one(
    community_oncologist_client: Client, world: World, before: str
) -> None:
    url = reverse("patient-timeline-earlier", kwargs={"patient_id": world.shared_patient.pk})
    assert community_oncologist_client.get(url, {"before": before}).status_code == 400


def test_show_earlier_queries_do_not_grow_with_the_days(community_oncologist_client: Client, world: World) -> None:
    infused_referral(world)
    patient = world.shared_patient
    start = timezone.now() - dt.timedelta(days=200)
    add_events(world, 5, start, dt.timedelta(days=1))
    url = earlier_url(patient)
    community_oncologist_client.get(url, headers=HTMX)  # warm the caches (content types, site groups)
    with CaptureQueriesContext(connection) as few:
        community_oncologist_client.get(url, headers=HTMX)
    add_events(world, 150, start + dt.timedelta(days=6), dt.timedelta(hours=20))
    with CaptureQueriesContext(connection) as many:
        response = community_oncologist_client.get(url, headers=HTMX)
    assert html_of(response).count('class="tl-day"') == 30
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_patient_page_links_to_the_timeline(community_oncologist_client: Client, world: World) -> None:
    response = community_oncologist_client.get(
        reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk})
    )
    assert f'href="{timeline_url(world.shared_patient)}"' in html_of(response)


def _row_html(html: str, milestone_: Milestone) -> str:
    return html.split(f'id="milestone-{milestone_.pk}"', 1)[1].split("</tr>", 1)[0]


def test_planned_dates_computed_on_a_weekend_are_hinted_and_stay(client: Client, world: World) -> None:
    """Day 0 on Monday 11 Jan 2027: every planned date computed from it that falls on a Saturday
    or Sunday says "weekend" next to it, others do not; a date set by hand is the person's
    choice and is not hinted. No date moves."""
    referral = infused_referral(world)
    before = dict(Milestone.objects.filter(referral=referral).values_list("pk", "planned_on"))
    by_hand = milestone(referral, MilestoneKind.VISIT_DAY_30)
    with time_machine.travel(DAY_AFTER_INFUSION, tick=False):
        milestone_move(
            actor=world.center_coordinator, milestone=by_hand, planned_on=dt.date(2027, 2, 13), reason="Clinic Saturday"
        )
    login(client, world.center_coordinator)
    html = html_of(client.get(milestones_url(world.shared_patient)))
    weekend = []
    for m in Milestone.objects.filter(referral=referral, status=Milestone.Status.PLANNED, planned_on__isnull=False):
        hinted = ">weekend</span>" in _row_html(html, m)
        expected = m.planned_on is not None and m.planned_on.weekday() >= 5 and not m.manual
        assert hinted == expected, (m.kind, m.planned_on)
        weekend += [m] if expected else []
    assert weekend, "the course has dates computed on a weekend"
    assert by_hand.pk not in {m.pk for m in weekend}
    after = dict(Milestone.objects.filter(referral=referral).values_list("pk", "planned_on"))
    assert after == before | {by_hand.pk: dt.date(2027, 2, 13)}


# The milestone table: order, notes and the cancel action's words


def test_a_done_step_sits_in_the_table_on_the_day_it_was_done(client: Client, world: World) -> None:
    referral = accepted_referral(world)
    today = timezone.localdate(timezone.now(), world.center.zone)
    apheresis = milestone_plan(
        actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=today - dt.timedelta(days=20)
    )
    bridging = milestone_plan(
        actor=world.center_coordinator,
        referral=referral,
        kind="bridging_therapy",
        planned_on=today - dt.timedelta(days=15),
    )
    # Collected ten days late: after the bridging therapy planned in between.
    milestone_complete(actor=world.center_coordinator, milestone=apheresis, actual_on=today - dt.timedelta(days=10))
    login(client, world.community_oncologist)
    for html in (
        html_of(client.get(timeline_url(world.shared_patient))),
        html_of(client.get(milestones_url(world.shared_patient), headers=HTMX)),
    ):
        assert html.index(f'id="milestone-{bridging.pk}"') < html.index(f'id="milestone-{apheresis.pk}"')


def test_marking_done_keeps_the_planning_note_beside_the_done_note(
    center_coordinator_client: Client, world: World
) -> None:
    referral = accepted_referral(world)
    today = timezone.localdate(timezone.now(), world.center.zone)
    apheresis = milestone_plan(
        actor=world.center_coordinator,
        referral=referral,
        kind="apheresis",
        planned_on=today - dt.timedelta(days=1),
        note="Central line placed the day before",
    )
    response = center_coordinator_client.post(
        reverse("milestone-complete", kwargs={"milestone_id": apheresis.pk}),
        {"actual_on": (today - dt.timedelta(days=1)).isoformat(), "note": "Target dose collected in one session"},
        follow=True,
    )
    apheresis.refresh_from_db()
    assert apheresis.status == Milestone.Status.DONE
    assert apheresis.note == "Central line placed the day before"
    assert apheresis.done_note == "Target dose collected in one session"
    row = squash(html_of(response)).split(f'id="milestone-{apheresis.pk}"')[1].split("</tr>")[0]
    assert "Planning note: Central line placed the day before" in row
    assert "Done note: Target dose collected in one session" in row
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=api_token_header(world.community_oncologist))
    api = reader.get(f"/api/milestones/{apheresis.pk}/").json()
    assert (api["note"], api["done_note"]) == (
        "Central line placed the day before",
        "Target dose collected in one session",
    )


def test_the_cancel_action_says_it_cancels_the_step_and_still_does(
    center_coordinator_client: Client, world: World
) -> None:
    referral = infused_referral(world)
    visit = milestone(referral, MilestoneKind.DAILY_MONITORING_END)
    html = squash(html_of(center_coordinator_client.get(timeline_url(world.shared_patient))))
    row = html.split(f'id="milestone-{visit.pk}"')[1].split("</tr>")[0]
    assert 'Cancel this step…<span class="visually-hidden"> Daily monitoring ends</span>' in row
    assert "Cancel…" not in html
    url = reverse("milestone-cancel-form", kwargs={"milestone_id": visit.pk})
    form = html_of(center_coordinator_client.get(url, headers=HTMX))
    assert '<button type="submit" class="button button--danger">Cancel this step</button>' in form
    cancel = reverse("milestone-cancel", kwargs={"milestone_id": visit.pk})
    assert center_coordinator_client.post(cancel, {"reason": "Stays at the center"}).status_code == 302
    visit.refresh_from_db()
    assert visit.status == Milestone.Status.CANCELLED


# Correcting the day a step was done on


def done_apheresis(world: World, days_ago: int = 10) -> Milestone:
    referral = accepted_referral(world)
    on = timezone.localdate(timezone.now(), world.center.zone) - dt.timedelta(days=days_ago)
    apheresis = milestone_plan(actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=on)
    return milestone_complete(actor=world.center_coordinator, milestone=apheresis, actual_on=on)


def test_the_practice_corrects_a_done_date_and_both_sites_read_from_what_to_what(client: Client, world: World) -> None:
    apheresis = done_apheresis(world)
    was = apheresis.actual_on
    assert was is not None
    corrected = was - dt.timedelta(days=2)
    login(client, world.community_oncologist)
    html = squash(html_of(client.get(timeline_url(world.shared_patient))))
    row = html.split(f'id="milestone-{apheresis.pk}"')[1].split("</tr>")[0]
    assert 'Correct the done date…<span class="visually-hidden"> Apheresis (T-cell collection)</span>' in row
    assert "Mark done" not in row and "Cancel this step" not in row
    form = html_of(client.get(form_url("correct", apheresis), headers=HTMX))
    assert f'value="{was.isoformat()}"' in form
    response = client.post(
        reverse("milestone-correct", kwargs={"milestone_id": apheresis.pk}),
        {"actual_on": corrected.isoformat(), "reason": "Typed the day of the line placement"},
        follow=True,
    )
    apheresis.refresh_from_db()
    assert apheresis.status == Milestone.Status.DONE and apheresis.actual_on == corrected
    said = f"Apheresis (T-cell collection): done date corrected from {was:%d %b %Y} to {corrected:%d %b %Y}"
    entry = TimelineEntry.objects.filter(patient=world.shared_patient).latest("pk")
    assert entry.title == said and entry.body == "Typed the day of the line placement"
    assert entry.site == world.practice
    assert said in html_of(response)
    audit = AuditEntry.objects.filter(object_type="referrals.milestone", object_id=str(apheresis.pk)).first()
    assert audit is not None and audit.actor == world.community_oncologist
    assert audit.changes["actual_on"] == [was.isoformat(), corrected.isoformat()]


def test_a_done_date_in_the_future_is_refused_on_its_field_with_nothing_changed(
    center_coordinator_client: Client, world: World
) -> None:
    apheresis = done_apheresis(world)
    was = apheresis.actual_on
    entries = TimelineEntry.objects.count()
    ahead = timezone.localdate(timezone.now(), world.center.zone) + dt.timedelta(days=5)
    response = center_coordinator_client.post(
        reverse("milestone-correct", kwargs={"milestone_id": apheresis.pk}), {"actual_on": ahead.isoformat()}
    )
    assert response.status_code == 400
    html = squash(html_of(response))
    field_id = f"id_correct{apheresis.pk}_actual_on"
    assert f'<p class="field__error" id="{field_id}_error">This cannot be in the future.</p>' in html
    assert re.search(rf'<input[^>]*aria-invalid="true"[^>]*id="{field_id}"', html)
    apheresis.refresh_from_db()
    assert apheresis.actual_on == was and TimelineEntry.objects.count() == entries


def test_only_a_done_step_has_a_done_date_to_correct(center_coordinator_client: Client, world: World) -> None:
    referral = infused_referral(world)
    hand_back = milestone(referral, MilestoneKind.HAND_BACK)
    response = center_coordinator_client.post(
        reverse("milestone-correct", kwargs={"milestone_id": hand_back.pk}), {"actual_on": "2026-12-01"}
    )
    assert response.status_code == 400
    assert "That did not go through." in html_of(response)
    with pytest.raises(ValidationError, match="Only a step marked done has a done date to correct"):
        milestone_correct_done(actor=world.center_coordinator, milestone=hand_back, actual_on=dt.date(2026, 12, 1))
    hand_back.refresh_from_db()
    assert hand_back.status == Milestone.Status.PLANNED and hand_back.actual_on is None


def test_correcting_the_infusions_done_date_moves_day_0_and_is_the_centers_alone(client: Client, world: World) -> None:
    referral = infused_referral(world)
    infusion = milestone(referral, MilestoneKind.INFUSION)
    with time_machine.travel(dt.datetime(2027, 1, 20, 18, 0, tzinfo=dt.UTC), tick=False):
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=INFUSION)
        url = reverse("milestone-correct", kwargs={"milestone_id": infusion.pk})
        login(client, world.community_oncologist)
        html = html_of(client.get(timeline_url(world.shared_patient)))
        row = html.split(f'id="milestone-{infusion.pk}"')[1].split("</tr>")[0]
        assert "Correct the done date" not in row
        assert client.get(form_url("correct", infusion), headers=HTMX).status_code == 403
        refused = client.post(url, {"actual_on": "2027-01-12"})
        assert refused.status_code == 403
        assert "Only the staff of" in html_of(refused)
        infusion.refresh_from_db()
        assert infusion.actual_on == INFUSION

        login(client, world.center_coordinator)
        assert client.post(url, {"actual_on": "2027-01-12", "reason": "Given after midnight"}).status_code == 302
    infusion.refresh_from_db()
    assert infusion.actual_on == dt.date(2027, 1, 12)
    assert milestone(referral, MilestoneKind.HAND_BACK).planned_on == dt.date(2027, 1, 12) + dt.timedelta(days=21)
    entry = TimelineEntry.objects.filter(patient=world.shared_patient).latest("pk")
    assert entry.title == "Infusion: done date corrected from 11 Jan 2027 to 12 Jan 2027"
    assert "Day 0 is now 12 Jan 2027" in entry.body


def test_outsider_gets_404_correcting_a_done_date_and_nothing_changes(client: Client, world: World) -> None:
    apheresis = done_apheresis(world)
    was = apheresis.actual_on
    entries = TimelineEntry.objects.count()
    login(client, world.outsider)
    url = reverse("milestone-correct", kwargs={"milestone_id": apheresis.pk})
    assert client.get(form_url("correct", apheresis), headers=HTMX).status_code == 404
    assert client.get(form_url("correct", apheresis)).status_code == 404
    assert client.post(url, {"actual_on": "2026-11-01"}).status_code == 404
    apheresis.refresh_from_db()
    assert apheresis.actual_on == was and TimelineEntry.objects.count() == entries


def test_a_reader_may_not_correct_a_done_date(client: Client, world: World) -> None:
    apheresis = done_apheresis(world)
    was = apheresis.actual_on
    login(client, member(world.center, Role.READ_ONLY, email="reader@lakeside.test"))
    assert client.get(form_url("correct", apheresis), headers=HTMX).status_code == 403
    url = reverse("milestone-correct", kwargs={"milestone_id": apheresis.pk})
    assert client.post(url, {"actual_on": "2026-11-01"}).status_code == 403
    apheresis.refresh_from_db()
    assert apheresis.actual_on == was


@pytest.mark.parametrize("who", ["community_coordinator", "community_oncologist"])
def test_the_practice_is_not_offered_to_cancel_the_infusion_and_a_post_is_refused(
    client: Client, world: World, who: str
) -> None:
    """Cancelling the infusion takes day 0 away: the center's act, as moving it is. The practice
    still cancels its other steps from the same table."""
    referral = infused_referral(world)
    infusion, visit = milestone(referral, MilestoneKind.INFUSION), milestone(referral, MilestoneKind.VISIT_DAY_30)
    login(client, getattr(world, who))
    every = html_of(client.get(milestones_url(world.shared_patient)))
    row = every.split(f'id="milestone-{infusion.pk}"')[1].split("</tr>")[0]
    assert "Mark done…" in row and "Cancel this step…" not in row
    assert "Cancel this step…" in every.split(f'id="milestone-{visit.pk}"')[1].split("</tr>")[0]
    assert client.get(form_url("cancel", infusion), headers=HTMX).status_code == 403

    course = list(Milestone.objects.order_by("pk").values_list("kind", "planned_on", "status"))
    refused = client.post(reverse("milestone-cancel", kwargs={"milestone_id": infusion.pk}), {"reason": "Elsewhere"})
    assert refused.status_code == 403
    assert f"Only the staff of {world.center.name} who record care" in html_of(refused)
    assert list(Milestone.objects.order_by("pk").values_list("kind", "planned_on", "status")) == course


def test_the_center_is_offered_to_cancel_the_infusion(center_coordinator_client: Client, world: World) -> None:
    referral = infused_referral(world)
    infusion = milestone(referral, MilestoneKind.INFUSION)
    every = html_of(center_coordinator_client.get(milestones_url(world.shared_patient)))
    assert "Cancel this step…" in every.split(f'id="milestone-{infusion.pk}"')[1].split("</tr>")[0]
    assert center_coordinator_client.get(form_url("cancel", infusion), headers=HTMX).status_code == 200
