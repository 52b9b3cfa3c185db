"""The API lists' pages: every row reachable through `next`, the rows counted only as far as needed.

An exact count reads every row a person sees: the network coordinator's 9,044 hand-offs took
5.4 ms to count against 0.5 ms for a practice's fifty patients, more than the page itself, so
an API list cost more the more patients its reader saw. A list now counts its rows up to
LIST_COUNT_CAP (500), as the pages do; beyond, `count` is null and `more_than` says 500.
`?count=exact` counts every row for the client that needs the total. Unlike a page's list,
the API pages on past the cap (`next` until the last row), so a client that follows `next`
gets every row, as before; the last page knows its count without counting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from carecoord.web.list_forms import count_up_to

EXACT = "exact"
# No list reaches this far; a page past it would be an OFFSET beyond PostgreSQL's bigint.
FURTHEST_ROW = 2**62


@dataclass(frozen=True)
class ListPage:
    """One page: its number, its rows, whether more follow, and the list's count (None: more
    than `cap`)."""

    number: int
    rows: list[Any]
    has_next: bool
    count: int | None
    cap: int


class ListPagination(PageNumberPagination):
    """Pages of PAGE_SIZE with `count` (exact up to LIST_COUNT_CAP, else null), `more_than`
    (the cap when `count` is null), `next`, `previous` and `results`.

    `counter`, when a view sets it, counts the list another way, up to the cap it is given
    (None: every row); the patient list counts the grants alone."""

    count_query_param = "count"
    template = None  # the browsable API shows no page numbers: they would need the count
    counter: Callable[[int | None], int] | None = None
    shown: ListPage
    url: str  # the page asked for, whose query the links change

    def paginate_queryset(self, queryset: Any, request: Request, view: APIView | None = None) -> list[Any] | None:
        self.request = request
        size = self.get_page_size(request)
        if not size:
            return None
        cap = settings.LIST_COUNT_CAP
        exact = request.query_params.get(self.count_query_param) == EXACT
        asked = request.query_params.get(self.page_query_param) or "1"
        known: int | None = None
        if asked in self.last_page_strings:
            known = self._exact(queryset)
            number = max(1, -(-known // size))
        else:
            number = self._number(asked, size)
        offset = (number - 1) * size
        fetched = list(queryset[offset : offset + size + 1])
        rows, has_next = fetched[:size], len(fetched) > size
        if number > 1 and not rows:
            raise NotFound(self.invalid_page_message)
        if known is None and exact:
            known = self._exact(queryset)
        count = known if known is not None else self._count(queryset, offset, rows, has_next, cap)
        self.shown = ListPage(number, rows, has_next, count, cap)
        self.url = request.build_absolute_uri()
        return rows

    def _exact(self, queryset: QuerySet[Any]) -> int:
        return self.counter(None) if self.counter is not None else queryset.count()

    def _up_to(self, queryset: QuerySet[Any], cap: int) -> int:
        return self.counter(cap) if self.counter is not None else count_up_to(queryset, cap)

    def _number(self, asked: str, size: int) -> int:
        try:
            number = int(asked)
        except ValueError:
            raise NotFound(self.invalid_page_message) from None
        if number < 1 or number * size > FURTHEST_ROW:
            raise NotFound(self.invalid_page_message)
        return number

    def _count(self, queryset: QuerySet[Any], offset: int, rows: list[Any], has_next: bool, cap: int) -> int | None:
        """The list's count, or None when it holds more than `cap` rows, read as cheaply as
        this page allows: the last page knows it, a page reaching past the cap knows there are
        more, any other counts up to the cap."""
        if not has_next:
            return offset + len(rows)
        if offset + len(rows) + 1 > cap:
            return None
        counted = self._up_to(queryset, cap)
        return counted if counted <= cap else None

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.shown.count,
                "more_than": self.shown.cap if self.shown.count is None else None,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_next_link(self) -> str | None:
        if not self.shown.has_next:
            return None
        return replace_query_param(self.url, self.page_query_param, self.shown.number + 1)

    def get_previous_link(self) -> str | None:
        if self.shown.number == 1:
            return None
        if self.shown.number == 2:
            return remove_query_param(self.url, self.page_query_param)
        return replace_query_param(self.url, self.page_query_param, self.shown.number - 1)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        properties = described["properties"]
        cap = settings.LIST_COUNT_CAP
        properties["count"] = {
            "type": "integer",
            "nullable": True,
            "example": 123,
            "description": f"How many in all; null when the list holds more than {cap} (see `more_than`), "
            "unless asked with `count=exact`.",
        }
        properties["more_than"] = {
            "type": "integer",
            "nullable": True,
            "example": None,
            "description": f"{cap} when `count` is null (the list holds more), else null.",
        }
        order = ("count", "more_than", "next", "previous", "results")
        described["required"] = list(order)
        described["properties"] = {key: properties[key] for key in order}
        return described

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        return [
            *parameters,
            {
                "name": self.count_query_param,
                "required": False,
                "in": "query",
                "description": f"`exact` counts every row; otherwise a list of more than "
                f"{settings.LIST_COUNT_CAP} answers `count: null`.",
                "schema": {"type": "string", "enum": [EXACT]},
            },
        ]
