"""Each read's site, however the audit's INSERT comes by it: the same as `first_acting_site_ids`.

The INSERT reads the sites itself unless the request already read the reader's grants on every
patient shown; then it is given them (`audit.reads`). Both ways are checked here on one reader
of several sites (two roles at one of them) and patients of every mix of those sites, none of
them, a site that left, and on readers with no access at all; and after grants change within
the request, when what was read before must not decide.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from audit.reads import record_reads
from carecoord.access.acting import first_acting_site_ids
from carecoord.access.scope import capabilities_by_site
from carecoord.models import CareTeamLink, Patient, Site, User
from carecoord.request_context import Read, RequestContext, request_context
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_end_site, care_team_join
from carecoord.services.memberships import membership_start, user_deactivate
from tests.factories import SiteFactory, member, patient_at

pytestmark = pytest.mark.django_db

GRANTS = "carecoord_patientgroupobjectpermission"
INSERT_AUDIT = 'INSERT INTO "audit_auditentry"'
# The reader's memberships, by site: two roles at "a", none at "f"; "e" is on no patient's care team.
READER_ROLES = {
    "a": [Role.COORDINATOR, Role.READ_ONLY],
    "b": [Role.NURSE],
    "c": [Role.READ_ONLY],
    "d": [Role.PHARMACIST],
    "e": [Role.COORDINATOR],
}
# Each patient's care team, the registering site first.
CARE_TEAMS = ["a", "b", "c", "d", "f", "ab", "bc", "cd", "da", "abcd", "fc", "fdb"]
# Site names in an order other than the letters'.
NAMES = {"a": "Mid", "b": "Zulu", "c": "Alpha", "d": "beta", "e": "Echo", "f": "Kilo"}


@dataclass
class Network:
    sites: dict[str, Site]
    staff: dict[str, User]
    reader: User
    patients: list[Patient]


def join(network: Network, patient: Patient, letter: str) -> CareTeamLink:
    return care_team_join(
        actor=network.staff[letter],
        patient=patient,
        site=network.sites[letter],
        capacity=CareTeamLink.Capacity.COMMUNITY_PRACTICE,
    )


@pytest.fixture
def network(db: None) -> Network:
    sites = {letter: SiteFactory.create(name=name) for letter, name in NAMES.items()}
    staff = {letter: member(site) for letter, site in sites.items()}
    reader = member(sites["a"], Role.COORDINATOR)
    for letter, roles in READER_ROLES.items():
        for role in roles[1:] if letter == "a" else roles:
            membership_start(user=reader, site=sites[letter], role=role, starts_on=dt.date(2020, 1, 1))
    built = Network(sites, staff, reader, [])
    for team in CARE_TEAMS:
        patient = patient_at(sites[team[0]], staff[team[0]])
        for letter in team[1:]:
            join(built, patient, letter)
        built.patients.append(patient)
    left = patient_at(sites["b"], staff["b"])  # "a" was on the care team, and left
    care_team_end_site(actor=staff["a"], link=join(built, left, "a"))
    built.patients.append(left)
    return built


def recorded(
    user: User | None, patients: list[uuid.UUID], tag: str, *, grants_read: bool
) -> dict[uuid.UUID, int | None]:
    """The sites `record_reads` writes for `user`'s reads of `patients`, in a request that read
    their grants before, or not; the INSERT reads grants exactly when none were read before."""
    request = RequestFactory().get("/")
    request.user = user if user is not None else AnonymousUser()
    read = Read(action=AuditEntry.Action.VIEW, what=tag, object_type="x.y", object_id="1")
    with request_context(request) as context:
        if grants_read and user is not None:
            capabilities_by_site(user, patients)
        with CaptureQueriesContext(connection) as queries:
            assert record_reads(context, dict.fromkeys(patients, read)) == len(patients)
    (insert,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(INSERT_AUDIT)]
    assert (GRANTS in insert) is not (grants_read and user is not None)
    return dict(AuditEntry.objects.filter(what=tag).values_list("patient_id", "site_id"))


def test_both_ways_write_the_first_site_by_name_the_reader_acts_for(network: Network) -> None:
    inactive = member(network.sites["a"])
    membership_start(user=inactive, site=network.sites["b"], role=Role.NURSE, starts_on=dt.date(2020, 1, 1))
    user_deactivate(user=inactive)
    nobody = User.objects.create(email="nobody@example.org", full_name="No Body")
    everyone = [p.pk for p in network.patients] + [uuid.uuid4()]  # and an id of no patient
    tags = (f"read {n}" for n in itertools.count())
    for user in [network.reader, *network.staff.values(), inactive, nobody, None]:
        for patients in [everyone, everyone[::-1], everyone[:1], everyone[3:9]]:
            acting = first_acting_site_ids(user, patients) if user is not None else {}
            expected = {p: acting.get(p) for p in patients}
            for grants_read in (False, True):
                assert recorded(user, patients, next(tags), grants_read=grants_read) == expected, (user, grants_read)
    # The reader's sites by name: Alpha (c), Mid (a), Zulu (b), beta (d); Echo (e) is on no care team.
    sites = {letter: site.pk for letter, site in network.sites.items()}
    by_team = dict(zip([*CARE_TEAMS, "left"], everyone, strict=False))
    mine = recorded(network.reader, everyone, "reader", grants_read=True)
    assert {team: mine[patient] for team, patient in by_team.items()} == {
        "a": sites["a"],
        "b": sites["b"],
        "c": sites["c"],
        "d": sites["d"],
        "f": None,
        "ab": sites["a"],
        "bc": sites["c"],
        "cd": sites["c"],
        "da": sites["a"],
        "abcd": sites["c"],
        "fc": sites["c"],
        "fdb": sites["b"],
        "left": sites["b"],
    }


@pytest.mark.parametrize("read_again", [False, True], ids=["not read again", "read again"])
@pytest.mark.parametrize("change", ["a site joins", "a site leaves", "the reader starts at a site"])
def test_grants_changed_within_the_request_are_read_afresh(network: Network, change: str, read_again: bool) -> None:
    """The grants read before a change within the request do not decide: the INSERT reads them,
    unless they were read again after the change."""
    reader, sites = network.reader, network.sites
    patients = [p.pk for p in network.patients]
    request = RequestFactory().get("/")
    request.user = reader
    read = Read(action=AuditEntry.Action.VIEW, what="changed", object_type="x.y", object_id="1")
    with request_context(request) as context:
        before = first_acting_site_ids(reader, patients)
        changed = network.patients[CARE_TEAMS.index("ab")]
        if change == "a site joins":
            changed = network.patients[CARE_TEAMS.index("f")]
            join(network, changed, "c")
        elif change == "a site leaves":
            care_team_end_site(
                actor=network.staff["a"], link=CareTeamLink.objects.get(patient=changed, site=sites["a"], ended_at=None)
            )
        else:
            changed = network.patients[CARE_TEAMS.index("f")]
            membership_start(user=reader, site=sites["f"], role=Role.READ_ONLY, starts_on=dt.date(2020, 1, 1))
        if read_again:
            capabilities_by_site(reader, patients)
        with CaptureQueriesContext(connection) as queries:
            record_reads(context, dict.fromkeys(patients, read))
    (insert,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(INSERT_AUDIT)]
    assert (GRANTS in insert) is not read_again
    written = dict(AuditEntry.objects.filter(what="changed").values_list("patient_id", "site_id"))
    now = first_acting_site_ids(reader, patients)
    assert written == {p: now.get(p) for p in patients}
    assert written[changed.pk] != before.get(changed.pk)


def test_a_request_other_than_the_current_one_is_not_given_its_grants(network: Network) -> None:
    """Grants read in the request being served say nothing of another request's reader."""
    reader, patients = network.reader, [p.pk for p in network.patients]
    other = RequestContext(RequestFactory().get("/"))
    other.request.user = reader
    request = RequestFactory().get("/")
    request.user = reader
    read = Read(action=AuditEntry.Action.VIEW, what="other", object_type="x.y", object_id="1")
    with request_context(request), CaptureQueriesContext(connection) as queries:
        capabilities_by_site(reader, patients)
        other.grants.update({(reader.pk, p): {} for p in patients})  # a wrong copy, never to be used
        record_reads(other, dict.fromkeys(patients, read))
    (insert,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(INSERT_AUDIT)]
    assert GRANTS in insert
    written = dict(AuditEntry.objects.filter(what="other").values_list("patient_id", "site_id"))
    expected = first_acting_site_ids(reader, patients)
    assert written == {p: expected.get(p) for p in patients}
    assert any(site is not None for site in written.values())
