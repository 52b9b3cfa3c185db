"""A list's row addresses, reversed once per list (`carecoord.web.row_urls`, and in templates the
`{% row_url %}` tag), are the addresses `reverse` gives each row."""

from __future__ import annotations

import uuid

from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from carecoord.web.row_urls import row_url


def test_uuid_rows_get_the_address_reverse_gives_them() -> None:
    ids = [uuid.uuid4() for _ in range(5)]
    timeline = row_url("patient-timeline", "patient_id", ids[0])
    assert [timeline(i) for i in ids] == [reverse("patient-timeline", kwargs={"patient_id": i}) for i in ids]


def test_integer_rows_get_the_address_reverse_gives_them() -> None:
    ids = [7, 70, 7007, 123456789]
    record = row_url("milestone-complete-form", "milestone_id", ids[0])
    assert [record(i) for i in ids] == [reverse("milestone-complete-form", kwargs={"milestone_id": i}) for i in ids]


def test_a_sample_whose_text_is_elsewhere_in_the_address_falls_back_to_reversing_each_row() -> None:
    # Served under "/site7/", the address of step 7 holds "7" twice: it cannot be split on it.
    set_script_prefix("/site7/")
    try:
        record = row_url("milestone-complete-form", "milestone_id", 7)
        assert record(7).startswith("/site7/")
        assert [record(i) for i in (7, 8, 77)] == [
            reverse("milestone-complete-form", kwargs={"milestone_id": i}) for i in (7, 8, 77)
        ]
    finally:
        set_script_prefix("/")


def test_the_template_tag_writes_what_the_url_tag_writes() -> None:
    patients = [uuid.uuid4() for _ in range(3)]
    steps = [7, 70, 123456789]
    both = Template(
        "{% load row_links %}{% for p in patients %}{% row_url 'patient-timeline' patient_id=p %} {% endfor %}"
        "{% for s in steps %}{% row_url 'milestone-complete-form' milestone_id=s %} {% endfor %}"
    )
    by_url = Template(
        "{% for p in patients %}{% url 'patient-timeline' patient_id=p %} {% endfor %}"
        "{% for s in steps %}{% url 'milestone-complete-form' milestone_id=s %} {% endfor %}"
    )
    context = Context({"patients": patients, "steps": steps})
    assert both.render(context) == by_url.render(context)


def test_the_template_tag_keeps_each_prefix_apart() -> None:
    tag = Template("{% load row_links %}{% row_url 'milestone-complete-form' milestone_id=8 %}")
    assert tag.render(Context()) == reverse("milestone-complete-form", kwargs={"milestone_id": 8})
    set_script_prefix("/site7/")
    try:
        assert tag.render(Context()) == reverse("milestone-complete-form", kwargs={"milestone_id": 8})
        assert tag.render(Context()).startswith("/site7/")
    finally:
        set_script_prefix("/")
