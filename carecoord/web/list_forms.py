"""What a list page's filter form shares (the referral and alert lists): the valid parts of what
was asked, and the part of it an address may carry.

Search words travel in the body of a POST, never in the address: names and MRNs in query strings
end up in server and proxy logs. The filters that say nothing about a patient (state, site, sort,
page) may be in the address, so a filtered list can be bookmarked and the back button restores it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, ClassVar
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse

from carecoord.web.shortcuts import HtmxHttpRequest


def patient_search_field() -> forms.CharField:
    """The search box of a list found by patient: part of a name or any site's MRN
    (`carecoord.selectors.patients.patients_matching`)."""
    return forms.CharField(
        label="Find a patient",
        required=False,
        max_length=100,
        help_text="Part of a name, or an MRN at any site.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )


Choices = list[tuple[Any, str]]


def lazy_choices(read: Callable[[], Iterable[tuple[Any, str]]]) -> Callable[[], Choices]:
    """A filter's choices read from the database only when the form needs them, to render its
    fields or to check a value that was asked, and then once: the results-only answer to an
    htmx request that asks for no site reads no sites."""
    return functools.cache(lambda: list(read()))


class ListForm(forms.Form):
    """A list's filter form. Anything it does not understand is left out, so a stale bookmark
    still shows the list rather than an error page. Subclasses name `address_fields` (never the
    search field) and the `defaults` an address leaves out."""

    address_fields: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[dict[str, str]] = {}
    search_field: ClassVar[str] = "q"

    @classmethod
    def data_of(cls, request: HttpRequest) -> QueryDict | dict[str, str]:
        """A POST as sent; from an address, only its address-safe filters (a pasted link's search
        words are not read)."""
        if request.method == "POST":
            return request.POST
        query = request.GET
        return {name: str(query.get(name)) for name in (*cls.address_fields, "page") if name in query}

    def asked(self) -> dict[str, Any]:
        """The valid parts of what was asked; a part that is not valid is as if not asked."""
        self.is_valid()
        return {name: value for name, value in getattr(self, "cleaned_data", {}).items() if name not in self.errors}

    def filtered(self) -> bool:
        """Whether anything narrows the list (sorting, paging and a default choice do not)."""
        asked = self.asked()
        names = (name for name in (self.search_field, *self.address_fields) if name != "sort")
        return any(asked.get(name) and asked[name] != self.defaults.get(name) for name in names)

    def address_filters(self) -> dict[str, Any]:
        """The address-safe filters asked that differ from the defaults: what an address (and
        an export of the list, and its audit entry) may carry. No search words, no page."""
        asked = self.asked()
        pairs = [(name, asked[name]) for name in self.address_fields if asked.get(name)]
        return {name: value for name, value in pairs if self.defaults.get(name) != value}

    def address(self, *, paged: bool = True) -> str:
        """The query string of the address-safe filters asked, for the browser's address bar. A
        page of search results is not pushed: the address would not find it again."""
        asked = self.asked()
        pairs = list(self.address_filters().items())
        if paged and asked.get("page") and not asked.get(self.search_field):
            pairs.append(("page", asked["page"]))
        return urlencode([(name, "on" if value is True else value) for name, value in pairs])


def address_of(form: ListForm, url_name: str, *, paged: bool = True) -> str:
    """The list's address with the address-safe filters asked (and the page, unless not `paged`:
    a list's export has all its pages)."""
    return reverse(url_name) + (f"?{query}" if (query := form.address(paged=paged)) else "")


def results_only(request: HtmxHttpRequest) -> bool:
    """Whether to answer with the list's results alone: an htmx request, but not a history
    restore after a cache miss, which needs the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def list_response(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], *, form: ListForm, url_name: str
) -> HttpResponse:
    """The whole page, or for htmx only its `results` partial with the address-safe filters
    pushed to the address bar. (The view is `vary_on_headers("HX-Request")`.)"""
    if results_only(request):
        response = render(request, f"{template}#results", context)
        response["HX-Push-Url"] = address_of(form, url_name)
        return response
    return render(request, template, context)


def count_up_to(rows: QuerySet[Any], cap: int) -> int:
    """`rows` counted up to one past `cap` (in any order: only how many matters)."""
    return rows.order_by()[: cap + 1].count()


class CappedPaginator(Paginator):
    """A list's pages, its rows counted only up to `cap` (LIST_COUNT_CAP, 500 by default).

    An exact count reads every row the list holds, so a page for someone who sees the whole
    network took longer than the same page for someone who sees fifty patients (the milestones
    due of 10,000 patients: 19 ms to count 2,125 rows, against 4 ms up to 501). Beyond the cap
    the page says "more than 500" and pages through the first 500 in its order: nobody reads
    further down a work list; the filters narrow it and the export has every row."""

    def __init__(
        self,
        rows: QuerySet[Any],
        per_page: int,
        *,
        cap: int | None = None,
        counter: Callable[[int], int] | None = None,
    ) -> None:
        super().__init__(rows, per_page)
        self.rows = rows
        self.cap = settings.LIST_COUNT_CAP if cap is None else cap
        self.counter = counter  # counts the rows another way, up to the cap it is given

    @functools.cached_property
    def counted(self) -> int:
        """The rows, counted up to one past the cap (in any order: only how many matters)."""
        if self.counter is not None:
            return self.counter(self.cap)
        return count_up_to(self.rows, self.cap)

    @functools.cached_property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @property
    def capped(self) -> bool:
        """Whether the list holds more rows than its pages reach."""
        return self.counted > self.cap
