"""Printable pages as PDFs: rendered HTML turned into bytes by WeasyPrint (the hand-off, the
education app's wallet card).

WeasyPrint fetches what the HTML links to. Only the static files are fetched: a page may hold
free text, and nothing in it may make the server open a URL or read another file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.document import Document  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

PRINT_STYLESHEET = "css/handoffs-print.css"


class _LocalFilesOnly(URLFetcher):
    def __init__(self, root: str) -> None:
        super().__init__(allowed_protocols=("file",))
        self.root = root

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not url.startswith(self.root):
            raise ValueError(f"Not a static file: {url}")
        return super().fetch(url, headers)


def static_base_url() -> str:
    """The file URL of the static directory holding the print stylesheet, ending in "/"."""
    found = finders.find(PRINT_STYLESHEET)
    if not isinstance(found, str):
        raise ImproperlyConfigured(f"{PRINT_STYLESHEET} is not among the static files.")
    return Path(found).resolve().parent.parent.as_uri() + "/"


def html_to_document(html: str, *, base_url: str | None = None) -> Document:
    """`html` laid out in pages; relative links ("css/handoffs-print.css") resolve in the static files."""
    base = base_url or static_base_url()
    return HTML(string=html, base_url=base, url_fetcher=_LocalFilesOnly(base)).render()


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """The PDF of `html` (`html_to_document`)."""
    pdf: bytes = html_to_document(html, base_url=base_url).write_pdf()
    return pdf
