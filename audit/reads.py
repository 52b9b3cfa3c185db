"""Reads of patient data, declared while a request is served (`carecoord.reads`), written once
it is answered: `AuditContextMiddleware` writes the declared reads when a GET or HEAD has been
answered 2xx, one entry per patient, all in one INSERT (which reads each patient's acting site
itself, unless the request already read the reader's grants on every one of them), so a list
page costs the same one query whatever its number of rows. A refused request (403,
404), an error or a redirect writes none, nor does a write: its own entries record the change.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpResponseBase
from django.utils import timezone

from carecoord.access.acting import acting_order, first_acting_site_ids
from carecoord.access.scope import AnyUser, access_key, grants_already_read
from carecoord.models import User
from carecoord.request_context import Read, RequestContext, actor_of_request, current

READ_METHODS = frozenset({"GET", "HEAD"})


def write_reads(context: RequestContext, response: HttpResponseBase) -> int:
    """The reads declared while `response` was prepared, written if it answered a read with 2xx:
    how many entries were written."""
    reads, context.reads = context.reads, {}
    if not reads or context.request.method not in READ_METHODS or not 200 <= response.status_code < 300:
        return 0
    return record_reads(context, reads)


# A request's reads in one statement: what its entries share as single values, what differs
# as one array per column, unnested into rows (the columns of `AuditEntry`). Each entry's site
# is the first of the reader's sites (their groups in `acting_order`) whose group holds a grant
# on the patient (`first_acting_site_ids`), read in the statement: a query of the grants less.
# The patient's grants are read in the grants' index by patient, and only the reader's groups
# kept (joined rather than checked group by group: a fifth of the statement less).
INSERT_READS = (
    'INSERT INTO "audit_auditentry" '
    "(at, actor_id, actor_email, ip_address, changes, action, site_id, patient_id, object_type, object_id, what) "
    "SELECT %s, %s, %s, %s::inet, '{}'::jsonb, r.action, "
    "(SELECT s.site_id FROM UNNEST(%s::integer[], %s::bigint[]) WITH ORDINALITY AS s(group_id, site_id, rank) "
    'JOIN "carecoord_patientgroupobjectpermission" g ON g.group_id = s.group_id '
    "WHERE g.content_object_id = r.patient_id AND g.permission_id = ANY(%s::integer[]) ORDER BY s.rank LIMIT 1), "
    "r.patient_id, r.object_type, r.object_id, r.what "
    "FROM UNNEST(%s::varchar[], %s::uuid[], %s::varchar[], %s::varchar[], %s::varchar[]) "
    "AS r(action, patient_id, object_type, object_id, what)"
)

# The same, each entry's site given: for a request that already read the reader's grants on
# every patient it shows (a list showing what its reader may do), the sites are known.
INSERT_READS_AT_SITES = (
    'INSERT INTO "audit_auditentry" '
    "(at, actor_id, actor_email, ip_address, changes, action, site_id, patient_id, object_type, object_id, what) "
    "SELECT %s, %s, %s, %s::inet, '{}'::jsonb, r.action, r.site_id, r.patient_id, r.object_type, r.object_id, r.what "
    "FROM UNNEST(%s::varchar[], %s::bigint[], %s::uuid[], %s::varchar[], %s::varchar[], %s::varchar[]) "
    "AS r(action, site_id, patient_id, object_type, object_id, what)"
)


def record_reads(context: RequestContext, reads: dict[uuid.UUID, Read]) -> int:
    """One entry per patient read, in one INSERT (and, if this request has not read them yet, the
    reader's groups): how many.

    Written as one statement of arrays rather than through `bulk_create`, which for a page of
    50 rows spent 4-5 ms making and preparing model instances, the statement 0.7 ms. The acting
    sites are read in it too (see `INSERT_READS`): looking them up first cost a query of
    the grants and its rows' objects (1-2 ms on a list of 50). When the request has read them
    already, they are given (`INSERT_READS_AT_SITES`).
    """
    actor = actor_of_request(context.request)
    user = actor.user
    reader: AnyUser = user if user is not None else AnonymousUser()
    shown = list(reads.values())
    who: list[Any] = [
        timezone.now(),
        user.pk if user is not None else None,
        user.email if user is not None else "",
        actor.ip_address,
    ]
    actions = [read.action for read in shown]
    what = [[read.object_type for read in shown], [read.object_id for read in shown], [read.what for read in shown]]
    sites = _known_acting_sites(context, user, list(reads))
    params: list[Any]
    if sites is not None:
        statement, params = INSERT_READS_AT_SITES, [*who, actions, sites, list(reads), *what]
    else:
        groups = acting_order(reader)
        in_order = [[group_id for group_id, _ in groups], [site_id for _, site_id in groups]]
        permissions = sorted(access_key(reader).permission_ids.values())
        statement, params = INSERT_READS, [*who, *in_order, permissions, actions, list(reads), *what]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
    return len(shown)


def _known_acting_sites(
    context: RequestContext, user: User | None, patient_ids: list[uuid.UUID]
) -> list[int | None] | None:
    """Each patient's acting site (`first_acting_site_ids`, None for none) when this request
    already read `user`'s grants on every one of them, as a list that shows what its reader may
    do has (the API's patients and referrals, a patient's pages): no query. None otherwise, and
    the INSERT reads them (1-1.5 ms of it for fifty rows)."""
    if user is None or context is not current() or not grants_already_read(user, patient_ids):
        return None
    sites = first_acting_site_ids(user, patient_ids)
    return [sites.get(patient_id) for patient_id in patient_ids]
