"""The work queue says what needs *me*: alerts to acknowledge and hand-offs to acknowledge or
answer, each done in one click from the dashboard, which the person comes back to."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carecoord.contributions import queue_links_without_primary, unnamed_patients
from carecoord.models import Patient, PatientGroupObjectPermission, Site, SiteRoleGroup
from carecoord.selectors.sites import active_memberships_of
from handoffs.contributions import queue_handoffs
from handoffs.models import Handoff
from handoffs.services import handoff_acknowledge, handoff_ask
from referrals.contributions import queue_waiting
from referrals.workflow import Move
from tests.factories import death_on_file, patient_at
from tests.helpers import (
    CRS_GRADE_2,
    MY_WORK,
    World,
    advance,
    dashboard_queue,
    draft_referral,
    grade_2_event,
    login,
    name_point_persons,
    sent_handoff,
)
from toxicity.contributions import queue_alerts
from toxicity.models import Alert
from toxicity.services import toxicity_record
from workspace.work_queue import queue_scope

DASHBOARD = reverse("dashboard")


def test_my_unacknowledged_alert_is_in_my_queue_and_acknowledged_in_one_click(client: Client, world: World) -> None:
    event = grade_2_event(world)  # recorded at the center: the practice's point persons are alerted
    login(client, world.community_oncologist)
    response = dashboard_queue(client)
    alerts = response.context["work_queue"].rows("alerts")
    assert [alert.event for alert in alerts] == [event]
    html = response.content.decode()
    acknowledge = reverse("alert-acknowledge", kwargs={"alert_id": alerts[0].pk})
    assert f'action="{acknowledge}"' in html
    # How many wait, as the header's badge says.
    assert 'Alerts to acknowledge <span class="muted">(1)</span>' in html
    # Who reported it, and as whom the reader is alerted: the alerted site alone read as the reporter.
    assert f"New toxicity, reported by {world.center.name} · to you at {world.practice.name} · since" in html

    back = client.post(acknowledge, {"next": DASHBOARD})
    assert back.status_code == 302
    assert back["Location"] == DASHBOARD
    assert Alert.objects.get(pk=alerts[0].pk).acknowledged_by == world.community_oncologist
    after = dashboard_queue(client)
    assert after.context["work_queue"].rows("alerts") == []
    assert "Alerts to acknowledge" not in after.content.decode()  # the urgent band shows only what holds work


def test_someone_elses_alert_is_not_in_my_queue(client: Client, world: World) -> None:
    grade_2_event(world)
    login(client, world.outsider)
    assert dashboard_queue(client).context["work_queue"].rows("alerts") == []


def test_acknowledging_never_follows_a_next_address_off_the_site(client: Client, world: World) -> None:
    grade_2_event(world)
    alert = Alert.objects.get(recipient=world.community_oncologist)
    login(client, world.community_oncologist)
    response = client.post(
        reverse("alert-acknowledge", kwargs={"alert_id": alert.pk}), {"next": "https://evil.example/phish"}
    )
    assert response["Location"] == reverse("toxicity-event", kwargs={"event_id": alert.event_id})


def test_a_received_handoff_is_in_the_receivers_queue_until_acknowledged(client: Client, world: World) -> None:
    handoff = sent_handoff(world)  # from the center to the practice, which names no point person: its coordinator
    login(client, world.community_coordinator)
    queue = dashboard_queue(client).context["work_queue"]
    assert queue.rows("handoffs") == [handoff]
    assert not queue.rows("handoffs")[0].to_answer

    response = client.post(reverse("handoff-acknowledge", kwargs={"handoff_id": handoff.pk}), {"next": DASHBOARD})
    assert response["Location"] == DASHBOARD
    assert Handoff.objects.get(pk=handoff.pk).state == Handoff.State.ACKNOWLEDGED
    assert dashboard_queue(client).context["work_queue"].rows("handoffs") == []


def test_a_question_on_a_handoff_waits_on_the_other_site_until_answered(client: Client, world: World) -> None:
    handoff = sent_handoff(world)
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Which dose of dexamethasone?")
    login(client, world.center_coordinator)
    rows = dashboard_queue(client).context["work_queue"].rows("handoffs")
    assert rows == [handoff]
    assert rows[0].to_answer
    assert "a question to answer" in dashboard_queue(client).content.decode()

    handoff_ask(actor=world.center_coordinator, handoff=handoff, body="10 mg every 6 hours.")
    assert dashboard_queue(client).context["work_queue"].rows("handoffs") == []


def test_an_answered_question_waits_on_neither_site(client: Client, world: World) -> None:
    """The center's answer closes the practice's question: the practice has no "question to
    answer" (the answer used to count as a question back), and neither has the center."""
    name_point_persons(world)
    handoff = sent_handoff(world)
    handoff_acknowledge(actor=world.community_oncologist, handoff=handoff)
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Which dose of dexamethasone?")
    handoff_ask(actor=world.center_coordinator, handoff=handoff, body="10 mg every 6 hours.")
    for user in (world.community_oncologist, world.center_coordinator):
        login(client, user)
        response = dashboard_queue(client)
        assert response.context["work_queue"].rows("handoffs") == []
        assert "a question to answer" not in response.content.decode()
    # "Thanks, noted." as a plain note leaves it so.
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Thanks, noted.", needs_answer=False)
    assert dashboard_queue(client).context["work_queue"].rows("handoffs") == []


def test_the_outsider_has_no_handoff_in_the_queue(client: Client, world: World) -> None:
    sent_handoff(world)
    login(client, world.outsider)
    assert dashboard_queue(client).context["work_queue"].rows("handoffs") == []


def _threads_elsewhere(world: World, count: int) -> None:
    """`count` hand-offs from the center to the unrelated practice, each with a question and
    its answer: work of the network that is none of the practice's."""
    for number in range(count):
        patient = patient_at(world.unrelated_practice, world.outsider, shared_with=world.center)
        handoff = sent_handoff(world, patient, to_site=world.unrelated_practice)
        handoff_ask(actor=world.outsider, handoff=handoff, body=f"Question {number}")
        handoff_ask(actor=world.center_coordinator, handoff=handoff, body=f"Answer {number}")


def test_the_dashboards_hand_off_lists_read_the_same_whatever_the_rest_of_the_network_holds(
    client: Client, world: World
) -> None:
    """The queue's hand-offs and the "needs my action" filter read the hand-offs of the viewer's
    sites alone: no thread of the network is read, and the queries are as many with one
    hand-off and thread elsewhere as with four."""
    waiting = sent_handoff(world)
    handoff_ask(actor=world.center_coordinator, handoff=waiting, body="Did the summary reach you?")
    login(client, world.community_coordinator)

    def measured() -> tuple[int, list[Handoff], list[str]]:
        with CaptureQueriesContext(connection) as captured:
            queue = dashboard_queue(client).context["work_queue"]
            needing = client.get(DASHBOARD, {"needs_action": "on"})
        assert [row.patient for row in needing.context["rows"]] == [world.shared_patient]
        return len(captured), queue.rows("handoffs"), [query["sql"] for query in captured.captured_queries]

    _threads_elsewhere(world, 1)
    measured()  # warm the caches (content types, site groups, filter choices kept per viewer)
    one, rows, statements = measured()
    assert rows == [waiting] and rows[0].to_answer
    assert not any("handoffs_handoffquestion" in sql for sql in statements)
    _threads_elsewhere(world, 3)
    measured()  # the filter choices are read again after the network changed
    assert measured()[:2] == (one, [waiting])


def test_the_hand_offs_and_referrals_waiting_are_each_one_statement_that_picks_its_rows_first(
    world: World,
) -> None:
    """Each list picks the rows it shows from its own table (a subquery with the limit, computed
    first as an array), then joins the patient and sites of those rows alone: joined first,
    PostgreSQL read every patient of the network for the 190 referrals waiting on a center to
    keep eleven; as a join with the subquery (`IN`), it took longer to plan than to run."""
    handoff = sent_handoff(world)  # from the center, waiting on the practice
    referral = advance(draft_referral(world), [(Move.SUBMIT, world.community_coordinator)])  # on the center
    for read, viewer, expected, table in (
        (queue_handoffs, world.community_coordinator, handoff, "handoffs_handoff"),
        (queue_waiting, world.center_coordinator, referral, "referrals_referral"),
    ):
        scope = queue_scope(viewer, active_memberships_of(viewer))
        with CaptureQueriesContext(connection) as queries:
            rows = list(read(scope))
        assert rows == [expected]
        # (Outside a request the viewer's grants are read too: not the list's statements.)
        [statement] = [query["sql"] for query in queries.captured_queries if f'FROM "{table}"' in query["sql"]]
        assert f'WHERE "{table}"."id" = ANY(ARRAY(SELECT' in statement
        assert f"LIMIT {scope.limit}))" in statement


def _ungrant(patient: Patient, site: Site) -> None:
    """`site`'s people no longer see `patient` (as when its care-team link has ended)."""
    groups = SiteRoleGroup.objects.filter(site=site).values("group_id")
    PatientGroupObjectPermission.objects.filter(content_object=patient, group_id__in=groups).delete()


def test_the_queue_skips_the_longest_waiting_row_of_a_patient_the_viewer_no_longer_sees(world: World) -> None:
    """The hand-offs and referrals waiting are picked in their order, each one's patient checked
    in the grants (`first_visible`): the longest waiting, about a patient the viewer's site no
    longer sees, is never shown, and the next one takes its place in a list of one."""
    older, newer = (patient_at(world.practice, world.community_coordinator, shared_with=world.center) for _ in range(2))
    handoffs = [sent_handoff(world, patient) for patient in (older, newer)]
    referrals = [
        advance(draft_referral(world, patient), [(Move.SUBMIT, world.community_coordinator)])
        for patient in (older, newer)
    ]
    for read, viewer, rows in (
        (queue_handoffs, world.community_coordinator, handoffs),
        (queue_waiting, world.center_coordinator, referrals),
    ):
        first = replace(queue_scope(viewer, active_memberships_of(viewer)), limit=1)
        assert list(read(first)) == [rows[0]]
    _ungrant(older, world.practice)
    _ungrant(older, world.center)
    for read, viewer, rows in (
        (queue_handoffs, world.community_coordinator, handoffs),
        (queue_waiting, world.center_coordinator, referrals),
    ):
        first = replace(queue_scope(viewer, active_memberships_of(viewer)), limit=1)
        assert list(read(first)) == [rows[1]]


def test_the_links_naming_no_primary_skip_a_patient_who_died_oldest_first(world: World) -> None:
    """The links of the viewer's sites naming no primary point person are picked oldest first,
    each patient alive: once the oldest one's death is recorded, the next takes its place in a
    list of one, and the patient is no longer one with work in the list."""
    viewer = world.community_coordinator
    older, newer = (patient_at(world.practice, viewer) for _ in range(2))
    scope = queue_scope(viewer, active_memberships_of(viewer))
    first = replace(scope, limit=1)
    links = {p.pk: p.care_team.get(site=world.practice) for p in (older, newer)}
    listed = queue_links_without_primary(scope)
    assert [link.joined_at for link in listed] == sorted(link.joined_at for link in listed)
    assert {links[older.pk].pk, links[newer.pk].pk} <= {link.pk for link in listed}
    assert [link.pk for link in queue_links_without_primary(first)] == [listed[0].pk]
    assert older.pk in set(unnamed_patients(scope).values_list("patient_id", flat=True))

    death_on_file(older, world.practice, viewer, world.practice.today())
    shown = queue_links_without_primary(scope)
    assert links[older.pk].pk not in [link.pk for link in shown]
    assert links[newer.pk].pk in [link.pk for link in shown]
    assert [link.pk for link in queue_links_without_primary(first)] == [shown[0].pk]
    assert older.pk not in set(unnamed_patients(scope).values_list("patient_id", flat=True))


def _two_alerts(world: World) -> Patient:
    """A grade 2 event of the shared patient, then one of another patient an hour ago: an alert
    each to the practice's and center's point persons. The other patient."""
    grade_2_event(world)
    other = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    name_point_persons(world, other)
    onset = timezone.now() - dt.timedelta(hours=1)
    toxicity_record(
        actor=world.center_coordinator, patient=other, site=world.center, kind="crs", onset_at=onset, inputs=CRS_GRADE_2
    )
    return other


def test_the_queue_skips_and_does_not_count_an_alert_about_a_patient_the_viewer_no_longer_sees(
    world: World,
) -> None:
    """The viewer's open alerts are picked highest grade first, then oldest, each one's patient
    checked in the grants, and all of them counted: once the site no longer sees the patient of
    the first, the next takes its place in a list of one, and the count leaves it out."""
    other = _two_alerts(world)
    viewer = world.community_oncologist
    first = replace(queue_scope(viewer, active_memberships_of(viewer)), limit=1)
    mine = Alert.objects.filter(recipient=viewer, acknowledged_at__isnull=True).order_by("created_at")
    older, newer = mine.get(patient=world.shared_patient), mine.get(patient=other)
    assert older.created_at < newer.created_at and older.grade == newer.grade
    assert [(alert.pk, alert.open_total) for alert in queue_alerts(first)] == [(older.pk, 2)]
    _ungrant(world.shared_patient, world.practice)
    assert [(alert.pk, alert.open_total) for alert in queue_alerts(first)] == [(newer.pk, 1)]


def _counts_of_alerts(queries: CaptureQueriesContext) -> list[str]:
    statements = [query["sql"] for query in queries.captured_queries]
    return [sql for sql in statements if sql.startswith("SELECT COUNT(*)") and "toxicity_alert" in sql]


def test_the_headers_count_of_open_alerts_is_the_queues_own_read(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_alerts(world)
    monkeypatch.setattr("workspace.work_queue.WORK_QUEUE_LIMIT", 0)  # the queue reads one of the two alerts
    login(client, world.community_oncologist)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(MY_WORK)  # the queue as a page of its own, with the header
    assert len(response.context["work_queue"].rows("alerts")) == 1
    assert 'aria-label="2 waiting"' in response.content.decode()
    assert _counts_of_alerts(queries) == []
    # A page without the queue counts them itself (the dashboard: its queue comes after it); the
    # queue in place on the dashboard and the dashboard's results alone (htmx) show no header.
    with CaptureQueriesContext(connection) as queries:
        assert 'aria-label="2 waiting"' in client.get(DASHBOARD).content.decode()
    assert len(_counts_of_alerts(queries)) == 1
    for htmx in (MY_WORK, DASHBOARD):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(htmx, headers={"HX-Request": "true"}).status_code == 200
        assert _counts_of_alerts(queries) == []


def test_the_dashboard_asks_for_its_queue_after_the_page_and_links_to_it_for_a_browser_without_scripts(
    client: Client, world: World
) -> None:
    grade_2_event(world)
    login(client, world.community_oncologist)
    page = client.get(DASHBOARD)
    assert "work_queue" not in page.context
    html = page.content.decode()
    assert f'hx-get="{MY_WORK}" hx-trigger="load"' in html and f'<a href="{MY_WORK}">' in html
    assert "Alerts to acknowledge" not in html
    in_place = dashboard_queue(client).content.decode()
    assert "Alerts to acknowledge" in in_place and "<html" not in in_place
    assert f'name="next" value="{DASHBOARD}"' in in_place  # its actions come back to the dashboard
    own_page = client.get(MY_WORK).content.decode()  # without scripts: a page of its own
    assert "<h1>My work</h1>" in own_page and "Alerts to acknowledge" in own_page
    assert f'name="next" value="{MY_WORK}"' in own_page  # its actions come back to it
    assert client.post(MY_WORK).status_code == 405


def test_questions_to_answer_say_when_they_were_asked_and_the_longest_waiting_comes_first(
    client: Client, world: World
) -> None:
    """Two hand-offs from the center, their questions asked in the other order than they were
    sent: the one asked first waits longest and comes first (it came second, by its deadline),
    each row saying when it was asked, in the site's time (Chicago)."""
    first_sent, second_sent = (
        patient_at(world.practice, world.community_coordinator, shared_with=world.center, family_name=name)
        for name in ("Sentfirst", "Askedfirst")
    )
    with time_machine.travel(dt.datetime(2027, 2, 1, 14, 0, tzinfo=dt.UTC), tick=False):
        sent_early = sent_handoff(world, first_sent)
    with time_machine.travel(dt.datetime(2027, 2, 1, 15, 0, tzinfo=dt.UTC), tick=False):
        sent_later = sent_handoff(world, second_sent)
    with time_machine.travel(dt.datetime(2027, 2, 1, 15, 30, tzinfo=dt.UTC), tick=False):
        handoff_ask(actor=world.community_oncologist, handoff=sent_later, body="Which prophylaxis after day +30?")
    with time_machine.travel(dt.datetime(2027, 2, 1, 16, 45, tzinfo=dt.UTC), tick=False):
        handoff_ask(actor=world.community_oncologist, handoff=sent_early, body="Is the IgG from day +28?")
    # The deadlines say the other order than the questions: the queue follows the questions.
    assert sent_early.acknowledge_by is not None and sent_later.acknowledge_by is not None
    assert sent_early.acknowledge_by < sent_later.acknowledge_by

    login(client, world.center_coordinator)
    response = dashboard_queue(client)
    rows = response.context["work_queue"].rows("handoffs")
    assert rows == [sent_later, sent_early] and all(row.to_answer for row in rows)
    html = response.content.decode().split('id="handoffs-heading"', 1)[1].split("</section>", 1)[0]
    assert html.index("Askedfirst") < html.index("Sentfirst")
    assert "a question to answer, asked Mon 1 Feb, 09:30 CST" in html
    assert "a question to answer, asked Mon 1 Feb, 10:45 CST" in html


def test_the_queue_walks_the_hand_offs_waiting_in_their_order_on_its_index(world: World) -> None:
    """The hand-offs waiting are walked on `handoff_awaiting_by_wait`, already in the queue's
    order (asked with sequential scans, bitmaps and sorts off: on a test database PostgreSQL
    would read the few rows whole and sort them; the index must give the order by itself)."""
    for number in range(3):
        patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
        handoff_ask(actor=world.community_oncologist, handoff=sent_handoff(world, patient), body=f"Question {number}")
    viewer = world.center_coordinator
    scope = queue_scope(viewer, active_memberships_of(viewer))
    with CaptureQueriesContext(connection) as captured:
        assert len(queue_handoffs(scope)) == 3
    (statement,) = [q["sql"] for q in captured.captured_queries if "handoffs_handoff" in q["sql"]]
    with connection.cursor() as cursor:
        for plan_kind in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{plan_kind} = off")
        cursor.execute(f"EXPLAIN {statement}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Scan using handoff_awaiting_by_wait" in plan, plan
    assert "Sort Key: handoffs_handoff_1." not in plan, plan  # walked in its order, not sorted


def test_a_capped_list_of_the_queue_links_to_its_full_list(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the queue's cap each list says so and links to where all of it is: the hand-offs to
    the hand-offs list needing my action, the patients naming no primary to the patients
    needing my action."""
    for _ in range(2):
        sent_handoff(world, patient_at(world.practice, world.community_coordinator, shared_with=world.center))
    login(client, world.community_coordinator)
    whole = dashboard_queue(client).content.decode()
    assert "Showing the first" not in whole
    monkeypatch.setattr("workspace.work_queue.WORK_QUEUE_LIMIT", 1)
    capped = dashboard_queue(client).content.decode()
    handoffs = capped.split('id="handoffs-heading"', 1)[1].split("</section>", 1)[0]
    assert f'Showing the first 1: <a href="{reverse("my-handoffs")}?needs_action=on">' in handoffs
    unnamed = capped.split('id="unnamed-heading"', 1)[1].split("</section>", 1)[0]
    assert f'Showing the first 1: <a href="{DASHBOARD}?needs_action=on#patients-heading">' in unnamed
    listed = client.get(reverse("my-handoffs"), {"needs_action": "on"})
    assert listed.context["page"].paginator.count == 2
