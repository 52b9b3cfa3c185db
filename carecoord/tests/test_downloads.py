"""The name a download is offered under: safe in a header whatever a user typed."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecoord.downloads import MAX_DOWNLOAD_NAME, attachment_disposition, download_filename
from referrals.documents import EXTENSIONS, SIGNATURES, stored_name

# What a header value built by `attachment_disposition` may look like, and nothing else.
DISPOSITION = re.compile(
    r'attachment; filename="(?P<ascii>[ -!#-.0-\[\]-~]+)"'  # printable ASCII but " / \
    r"(?:; filename\*=UTF-8''(?P<utf8>[A-Za-z0-9%._~-]+))?"
)


@pytest.mark.parametrize(
    ("name", "extension", "offered"),
    [
        ("biopsy report.pdf", "pdf", "biopsy report.pdf"),
        ("report.PDF", "pdf", "report.pdf"),
        ("scan.jpeg", "jpg", "scan.jpg"),
        ("setup.exe", "pdf", "setup.pdf"),  # named as what the content is
        ("scan\ud800.png", "png", "scan.png"),  # a lone surrogate is no character: it goes
        ("Dr. Smith notes", "pdf", "Dr. Smith notes.pdf"),  # a dot inside a title is not an extension
        ("../../etc/passwd.pdf", "pdf", "_.._etc_passwd.pdf"),
        ('C:\\temp\\a"b.pdf', "pdf", "C:_temp_a_b.pdf"),
        ('a"b\r\nX-Header: 1.pdf', "pdf", "a_bX-Header: 1.pdf"),
        ("x\x00y\tz.pdf", "pdf", "xyz.pdf"),
        ("invoice\u202efdp.exe", "pdf", "invoicefdp.pdf"),  # a right-to-left override cannot disguise it
        ("  spaced out .pdf  ", "pdf", "spaced out.pdf"),
        (".htaccess", "pdf", "document.pdf"),
        ("", "tif", "document.tif"),
        ("\r\n", "png", "document.png"),
    ],
)
def test_download_filename(name: str, extension: str, offered: str) -> None:
    assert download_filename(name, extension) == offered


def test_download_filename_is_cut_to_a_sensible_length_keeping_its_extension() -> None:
    offered = download_filename("a" * 500 + ".pdf", "pdf")
    assert offered == "a" * (MAX_DOWNLOAD_NAME - 4) + ".pdf"


@pytest.mark.parametrize(
    ("name", "disposition"),
    [
        ("biopsy report.pdf", 'attachment; filename="biopsy report.pdf"'),
        ("Ärztebrief.pdf", "attachment; filename=\"Arztebrief.pdf\"; filename*=UTF-8''%C3%84rztebrief.pdf"),
        ("東京.pdf", "attachment; filename=\"document.pdf\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.pdf"),
        ("50% dose; final.pdf", 'attachment; filename="50% dose; final.pdf"'),
    ],
)
def test_attachment_disposition(name: str, disposition: str) -> None:
    assert attachment_disposition(name, "pdf") == disposition


# Any text, with the characters that matter here drawn often.
NAMES = st.text(st.sampled_from('/\\"\r\n\x00 .é東\u202e') | st.characters(), max_size=400)


@given(name=NAMES, extension=st.sampled_from(sorted(set(EXTENSIONS.values()))))
def test_any_name_gives_a_safe_ascii_header_ending_in_the_extension(name: str, extension: str) -> None:
    disposition = attachment_disposition(name, extension)
    match = DISPOSITION.fullmatch(disposition)
    assert match, disposition
    assert match["ascii"].endswith(f".{extension}")
    offered = unquote(match["utf8"]) if match["utf8"] else match["ascii"]
    assert offered == download_filename(name, extension)
    assert offered.endswith(f".{extension}") and len(offered) <= MAX_DOWNLOAD_NAME
    assert not set(offered) & set('/\\"\r\n\x00')


def test_every_accepted_type_has_an_extension_and_a_generated_stored_name() -> None:
    for accepted in SIGNATURES:
        name = stored_name(accepted.content_type)
        assert re.fullmatch(rf"[0-9a-f]{{32}}\.{accepted.extension}", name)
    assert stored_name("application/pdf") != stored_name("application/pdf")
