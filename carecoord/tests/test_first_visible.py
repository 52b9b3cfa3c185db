"""`first_visible`: the first rows of a list, in its order, whose patient the viewer sees: the
others skipped, never shown, the order and the limit kept; a walk rather than a hash of the
grants of every patient the viewer sees."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F, QuerySet
from django.test.utils import CaptureQueriesContext

from carecoord.access.walks import first_visible
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, User
from tests.factories import patient_at
from tests.helpers import World


def shown(rows: QuerySet[PatientIdentifier], user: User, limit: int) -> list[PatientIdentifier]:
    return list(PatientIdentifier.objects.filter(pk__in=first_visible(rows, user, limit)).order_by("-pk"))


def test_the_rows_of_patients_the_viewer_does_not_see_are_skipped_in_order(world: World) -> None:
    """Newest first, the practice's coordinator's list holds their own patients' MRNs and never
    the unrelated practice's, however many of those come first."""
    mine = [patient_at(world.practice, world.community_coordinator) for _ in range(3)]
    theirs = [patient_at(world.unrelated_practice, world.outsider) for _ in range(4)]  # the newest
    rows = PatientIdentifier.objects.order_by("-pk")

    firsts = shown(rows, world.community_coordinator, 2)
    assert [identifier.patient for identifier in firsts] == [mine[2], mine[1]]
    assert all(identifier.patient not in theirs for identifier in shown(rows, world.community_coordinator, 50))
    assert {i.patient for i in shown(rows, world.outsider, 50)} >= set(theirs)
    assert not {i.patient for i in shown(rows, world.outsider, 50)} & set(mine)


def test_a_viewer_who_sees_nobody_and_an_empty_list_give_nothing(world: World) -> None:
    nobody = User.objects.create_user(email="nobody@example.test", password="unused-password-123")
    assert shown(PatientIdentifier.objects.order_by("pk"), nobody, 10) == []
    assert shown(PatientIdentifier.objects.none().order_by("pk"), world.community_coordinator, 10) == []


def test_the_list_must_have_an_order_of_its_fields() -> None:
    with pytest.raises(ValueError, match="order"):
        first_visible(PatientIdentifier.objects.order_by(), User(pk=1), 5)
    with pytest.raises(ValueError, match="order"):
        first_visible(PatientIdentifier.objects.order_by(F("mrn").desc(nulls_last=True)), User(pk=1), 5)


@pytest.mark.parametrize("plan", ["as PostgreSQL likes", "joined by hashes"])
def test_the_first_rows_are_kept_in_a_descending_and_ascending_order(world: World, plan: str) -> None:
    """Ordered by a field of a row they point to, then the key, newest or oldest first: the rows
    kept are the first of that order, however PostgreSQL joins them to the grants (a hash join
    keeps no order of its own: forced here, it is what lost the order before it was asked twice)."""
    mine = [patient_at(world.practice, world.community_coordinator, family_name="Same") for _ in range(6)]
    by_mrn = PatientIdentifier.objects.filter(patient__in=mine)
    if plan == "joined by hashes":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
    newest = first_visible(by_mrn.order_by("-patient__family_name", "-pk"), world.community_coordinator, 2)
    oldest = first_visible(by_mrn.order_by("patient__family_name", "pk"), world.community_coordinator, 2)
    assert {i.patient for i in PatientIdentifier.objects.filter(pk__in=newest)} == {mine[5], mine[4]}
    assert {i.patient for i in PatientIdentifier.objects.filter(pk__in=oldest)} == {mine[0], mine[1]}


def test_only_whole_lists_ordered_by_columns_are_walked(world: World) -> None:
    """A relation orders as its model's objects, not by its key: refused, as a list cut already is."""
    rows = PatientIdentifier.objects.all()
    for refused in (rows.order_by("site"), rows.order_by("patient__identifiers__mrn"), rows.order_by("pk")[2:5]):
        with pytest.raises(ValueError, match="first_visible"):
            first_visible(refused, world.community_coordinator, 3)


def test_a_viewer_who_sees_nobody_gets_nothing_whatever_the_key(world: World) -> None:
    """Nothing, without a query, for rows keyed by integers or by UUIDs (the patients)."""
    nobody = User.objects.create_user(email="nobody2@example.test", password="unused-password-123")
    with CaptureQueriesContext(connection) as queries:
        patients = list(
            Patient.objects.filter(pk__in=first_visible(Patient.objects.order_by("pk"), nobody, 5, patient="pk"))
        )
    assert patients == []
    assert not [q for q in queries.captured_queries if "carecoord_patient" in q["sql"]]
    assert list(
        Patient.objects.filter(
            pk__in=first_visible(Patient.objects.order_by("pk"), world.community_coordinator, 5, patient="pk")
        )
    )


def test_it_walks_the_sorted_rows_and_probes_the_grants(world: World) -> None:
    """One statement; the rows sorted in a subquery PostgreSQL keeps as it is (OFFSET 0), then
    the grants looked up for those rows only."""
    patient_at(world.practice, world.community_coordinator)
    rows = CareTeamLink.objects.filter(site=world.practice).order_by("joined_at")
    with CaptureQueriesContext(connection) as queries:
        picked = list(CareTeamLink.objects.filter(pk__in=first_visible(rows, world.community_coordinator, 3)))
    assert picked
    [statement] = [query["sql"] for query in queries.captured_queries if "carecoord_careteamlink" in query["sql"]]
    assert " ASC OFFSET 0) AS walked(id, patient_id, o0) WHERE walked.patient_id IN (SELECT" in statement
    assert ") ORDER BY walked.o0 ASC LIMIT 3)" in statement
