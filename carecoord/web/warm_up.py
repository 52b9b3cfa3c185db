"""What a web process loads before its first request (config/wsgi.py): every view module,
through the URLconf, and the templates of the pages people open most, into the template
loader's cache."""

from __future__ import annotations

import contextlib

from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import get_resolver

# The pages of a coordinator's day (docs/clinicians/screens.md), with what they include.
MAIN_TEMPLATES = (
    "carecoord/dashboard.html",
    "carecoord/patient_detail.html",
    "carecoord/timeline.html",
    "referrals/referral_list.html",
    "referrals/referral_detail.html",
    "toxicity/alert_list.html",
    "toxicity/event_detail.html",
    "handoffs/list.html",
    "handoffs/detail.html",
    "registration/login.html",
    "registration/two_factor_verify.html",
)


def warm_up() -> list[str]:
    """Import the URLconf's views and compile `MAIN_TEMPLATES`; returns the templates loaded."""
    get_resolver().url_patterns  # noqa: B018 - imports every view module the URLconf names
    loaded = []
    for name in MAIN_TEMPLATES:
        with contextlib.suppress(TemplateDoesNotExist):  # a page renamed: the warm-up test says which
            get_template(name)
            loaded.append(name)
    return loaded
