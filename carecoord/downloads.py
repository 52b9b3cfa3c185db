"""The name a file is offered under when downloaded: safe in a header, whatever a user typed.

A name a user gave (an uploaded file's) is data: it is shown on pages (escaped) and offered
as the download's name, but never used as a path. Offered, it loses path separators, quotes
and control characters, ends in the extension of what the file really is, and travels as
RFC 6266 `filename` (ASCII) plus RFC 5987 `filename*` (UTF-8) when it is not plain ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

# Long enough for any real document title; header and file-system friendly.
MAX_DOWNLOAD_NAME = 120
# Control and format characters (CR, LF, NUL, bidi overrides...), line and paragraph separators,
# and lone surrogates (no character at all: they cannot be encoded).
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Would split a path or end the quoted `filename`.
_SEPARATORS = str.maketrans({"/": "_", "\\": "_", '"': "_"})
# What a name ends in that reads as an extension: replaced by the real one.
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


def without_control_characters(text: str) -> str:
    """`text` without control, format or line-separator characters."""
    return "".join(char for char in text if unicodedata.category(char) not in _INVISIBLE)


def download_filename(name: str, extension: str, *, fallback: str = "document") -> str:
    """`name` made safe to offer as a file name, ending in `.extension` whatever it ended in.

    Path separators and quotes become `_`, control characters go, and so do leading and
    trailing dots and spaces; a name with nothing left is `fallback`.
    """
    text = unicodedata.normalize("NFC", without_control_characters(name)).translate(_SEPARATORS)
    stem = _EXTENSION.sub("", text.strip()).strip(" .")
    stem = stem[: MAX_DOWNLOAD_NAME - len(extension) - 1].rstrip(" .")
    return f"{stem or fallback}.{extension}"


def attachment_disposition(name: str, extension: str, *, fallback: str = "document") -> str:
    """A `Content-Disposition: attachment` header value offering `name` (see `download_filename`).

    The header is pure ASCII: a name with other characters is also sent as `filename*`, and
    its `filename` is the nearest ASCII (accents dropped), or `fallback` if nothing is left.
    """
    offered = download_filename(name, extension, fallback=fallback)
    ascii_name = download_filename(_ascii(offered), extension, fallback=fallback)
    if ascii_name == offered:
        return f'attachment; filename="{offered}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(offered, safe='')}"


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(char for char in decomposed if " " <= char <= "~").split())
