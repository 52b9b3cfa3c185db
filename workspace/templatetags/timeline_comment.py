"""`{% timeline_comment row user %}`: one message of the timeline's thread (an `EntryRow` of a
comment), as

    <li class="tl-comment[ tl-comment--mine]">
      <p class="tl-comment__meta">
        <strong>{author's name, or email, or "carecoord"}</strong>[ · {site}]
        <br><time datetime="{moment}">{Mon 3 Mar, 14:05}</time>[ · {day +n}]
      </p>
      <div class="tl-comment__body">{text, its lines kept}</div>
    </li>

Written here rather than in the thread's template: the page shows the last twenty messages and
the template engine spent about 4 ms of the timeline's 55 on them. The same HTML, every value
escaped as `{{ }}` escapes it, the moment in the time zone in force (`{% timezone %}`) and
formatted as the `date` filter formats it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from carecoord.web.form_renderer import escaped_text as _text

if TYPE_CHECKING:  # only types here: the tag library loads with the template engine
    from carecoord.models import User
    from workspace.timeline.history import EntryRow

register = template.Library()


@register.simple_tag
def timeline_comment(row: EntryRow, user: User) -> SafeString:
    entry = row.entry
    mine = " tl-comment--mine" if entry.actor_id == user.pk else ""
    author = _text(entry.actor.full_name or entry.actor.email) if entry.actor else "carecoord"
    site = f" · {_text(entry.site.name)}" if entry.site else ""
    at = localtime(row.at)  # the time zone in force, as the `date` filter converts it
    day = f" · {_text(row.day)}" if row.day else ""
    return mark_safe(  # noqa: S308 - every value escaped above (linebreaksbr escapes the text)
        f'<li class="tl-comment{mine}">\n'
        f'  <p class="tl-comment__meta">\n'
        f"    <strong>{author}</strong>{site}\n"
        f'    <br><time datetime="{date_format(at, "c")}">{_text(date_format(at, "D j M, H:i"))}</time>{day}\n'
        f"  </p>\n"
        f'  <div class="tl-comment__body">{linebreaksbr(entry.body, autoescape=True)}</div>\n'
        f"</li>\n"
    )
