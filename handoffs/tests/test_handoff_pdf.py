"""The hand-off PDF as paper: compact, and every page says whose chart it belongs in.

Pages are counted and read from WeasyPrint's own layout of the document the view sends (the
same HTML and stylesheet), text of the page margins included.
"""

from __future__ import annotations

import re
import zlib
import zoneinfo

from django.test import Client
from django.urls import reverse
from weasyprint.document import Document  # type: ignore[import-untyped]

from carecoord.models import PatientIdentifier
from handoffs.models import Handoff
from handoffs.pdf import handoff_pdf_html, html_to_document
from handoffs.services import handoff_save, handoff_send
from tests.helpers import TRANSITION, World, complete_values, shipped, started

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def _page_texts(document: Document) -> list[str]:
    """The visible text of each laid-out page, its header and footer boxes included."""
    texts = []
    for page in document.pages:
        boxes = page._page_box.descendants()
        words = [box.text for box in boxes if hasattr(box, "text") and box.style["visibility"] == "visible"]
        texts.append(" ".join(" ".join(words).split()))
    return texts


def _inflated(stream: bytes) -> bytes:
    """A compressed stream's content. The pattern that finds streams takes a carriage return
    ending the data for the one before "endstream": when the compressed data ends with that
    byte (it depends on what the document holds, dates included), it is put back."""
    try:
        return zlib.decompress(stream)
    except zlib.error:
        return zlib.decompress(stream + b"\r")


def _pdf_page_count(pdf: bytes) -> int:
    """Page objects in the PDF, those inside compressed object streams included."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL)
    parts = [pdf, *(_inflated(stream) for stream in streams)]
    return sum(len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", part)) for part in parts)


def _long_sent(world: World) -> Handoff:
    """The shipped transition template with every field filled, the long text ones at length."""
    handoff = started(world, TRANSITION)
    values = complete_values(shipped())
    for path, value in values.items():
        if value == "As discussed on the phone.":
            values[path] = "Discussed with the family on the phone; see the discharge summary. " * 3
    handoff_save(actor=world.center_coordinator, handoff=handoff, values=values)
    return handoff_send(actor=world.center_coordinator, handoff=handoff)


def test_the_shipped_transition_template_fits_three_pages_each_headed_with_the_patient(world: World) -> None:
    handoff = _long_sent(world)
    patient = world.shared_patient
    mrn = PatientIdentifier.objects.get(patient=patient, site=handoff.to_site).mrn

    pages = _page_texts(html_to_document(handoff_pdf_html(handoff, CHICAGO)))

    # Two pages up to version 2; version 3's section on counts, immune recovery and late effects
    # adds most of a third when every field is written at length.
    assert 1 <= len(pages) <= 3, len(pages)
    header = f"{patient.family_name}, {patient.given_name} · born {patient.date_of_birth:%-d %b %Y} · MRN {mrn}"
    for number, text in enumerate(pages, start=1):
        assert header in text, (number, text[:300])
        assert f"Page {number} of {len(pages)}" in text


def test_the_header_is_on_every_page_of_a_longer_handoff(world: World) -> None:
    """A hand-off long enough to need more pages still names the patient on each one."""
    handoff = _long_sent(world)
    handoff.values = {
        path: ("A long note. " * 300 if isinstance(value, str) and len(value) > 100 else value)
        for path, value in handoff.values.items()
    }
    patient = world.shared_patient

    pages = _page_texts(html_to_document(handoff_pdf_html(handoff, CHICAGO)))

    assert len(pages) > 2
    assert all(f"{patient.family_name}, {patient.given_name}" in text and "MRN " in text for text in pages)


def test_pdf_times_are_in_the_viewers_zone_and_named(community_oncologist_client: Client, world: World) -> None:
    handoff = _long_sent(world)
    html = handoff_pdf_html(handoff, world.practice.zone)
    assert f"Times in {world.practice.time_zone}." in html
    sent = handoff.sent_at.astimezone(world.practice.zone) if handoff.sent_at else None
    assert sent is not None and f"{sent:%H:%M} {sent.tzname()}" in html

    response = community_oncologist_client.get(reverse("handoff-pdf", kwargs={"handoff_id": handoff.pk}))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    # The view sends the document laid out above: as many page objects as pages.
    assert 1 <= _pdf_page_count(response.content) <= 3
