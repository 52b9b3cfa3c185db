"""The templates' own source: what Django would print instead of reading."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings

# `{# ... #}` is a comment only within one line: one that runs onto the next is printed as text
# (a note for developers shown on the page). Longer notes go in `{% comment %}`.
UNCLOSED_COMMENT = re.compile(r"\{#(?:(?!#\}).)*$", re.MULTILINE)


def _templates() -> list[Path]:
    engines: list[dict[str, Any]] = settings.TEMPLATES
    roots = [Path(directory) for engine in engines for directory in engine["DIRS"]]
    return sorted(path for root in roots for path in root.rglob("*.html"))


def test_no_template_comment_runs_onto_a_second_line() -> None:
    templates = _templates()
    assert len(templates) > 50  # the walk reads the project's templates
    unclosed = [
        f"{path.name}:{source[: match.start()].count(chr(10)) + 1}"
        for path in templates
        for source in [path.read_text(encoding="utf-8")]
        for match in UNCLOSED_COMMENT.finditer(source)
    ]
    assert unclosed == []


def test_the_check_finds_a_comment_that_runs_onto_a_second_line() -> None:
    assert UNCLOSED_COMMENT.search("<p>{# a note\n that goes on #}</p>")
    assert not UNCLOSED_COMMENT.search("<p>{# a note #}</p>\n{# another #}")
