"""`{% timeline_comment %}`: a message of the timeline's thread written in Python, every value
escaped as `{{ }}` escapes it, its lines kept, its moment in the time zone in force."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import timezone

from carecoord.models import Site, TimelineEntry, User
from workspace.templatetags.timeline_comment import timeline_comment
from workspace.timeline.history import EntryRow

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
AT = dt.datetime(2026, 3, 2, 20, 5, tzinfo=dt.UTC)  # 14:05 on Monday 2 March in Chicago


def comment(actor: User | None, site: Site | None, body: str) -> TimelineEntry:
    return TimelineEntry(kind=TimelineEntry.Kind.COMMENT, actor=actor, site=site, body=body, occurred_at=AT)


def test_every_value_is_escaped_and_the_lines_kept() -> None:
    author = User(pk=7, email="a@example.test", full_name="<b>Dr O'Neil</b>")
    entry = comment(author, Site(name="St <Luke> & Co"), "Fever 39.2\n<script>alert(1)</script>")
    with timezone.override(CHICAGO):
        html = timeline_comment(EntryRow(entry=entry, at=AT, day="day +3", link=""), User(pk=8))
    assert "<b>" not in html and "<script>" not in html and "<Luke>" not in html
    assert "<strong>&lt;b&gt;Dr O&#x27;Neil&lt;/b&gt;</strong> · St &lt;Luke&gt; &amp; Co" in html
    assert '<br><time datetime="2026-03-02T14:05:00-06:00">Mon 2 Mar, 14:05</time> · day +3' in html
    assert '<div class="tl-comment__body">Fever 39.2<br>&lt;script&gt;alert(1)&lt;/script&gt;</div>' in html
    assert '<li class="tl-comment">' in html


def test_my_own_message_is_marked_and_a_nameless_author_shows_the_email() -> None:
    me = User(pk=7, email="me@example.test", full_name="")
    with timezone.override(CHICAGO):
        html = timeline_comment(EntryRow(entry=comment(me, None, "ok"), at=AT, day="", link=""), me)
    assert '<li class="tl-comment tl-comment--mine">' in html
    assert "<strong>me@example.test</strong>\n" in html  # no site, no day
    assert "</time>\n" in html


def test_a_message_without_an_author_is_carecoords() -> None:
    with timezone.override(dt.UTC):
        html = timeline_comment(EntryRow(entry=comment(None, None, "x"), at=AT, day="", link=""), User(pk=1))
    assert "<strong>carecoord</strong>" in html
    assert '<time datetime="2026-03-02T20:05:00+00:00">Mon 2 Mar, 20:05</time>' in html
