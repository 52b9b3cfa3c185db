"""The hand-off template editor: shipped templates, draft and published versions, the live preview."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carecoord.models import User
from carecoord.roles import Role
from handoffs.models import Handoff, HandoffTemplate, HandoffTemplateVersion
from handoffs.schema import FIELD_TYPES, validate_schema
from handoffs.services import handoff_start, published_version, template_draft
from handoffs.template_editor.services import template_create
from tests.factories import UserFactory, member
from tests.helpers import World, login

pytestmark = pytest.mark.django_db

SHIPPED = ("Post-CAR-T transition to community care", "Referral packet", "Toxicity transfer")

EVERY_TYPE: dict[str, Any] = {
    "sections": [
        {
            "key": "basics",
            "title": "Basics of the stay",
            "fields": [
                {"key": "product", "label": "Product name", "type": "text", "required": True, "help": "Brand name."},
                {"key": "summary", "label": "Summary of the stay", "type": "long_text"},
                {"key": "infused_on", "label": "Infusion day", "type": "date", "required": True},
                {"key": "crs", "label": "Highest CRS", "type": "number", "prefill": "highest_crs_grade"},
                {"key": "eligibility", "label": "Eligibility", "type": "choice", "choices": ["eligible", "not"]},
                {"key": "irradiated", "label": "Irradiated products", "type": "yes_no"},
                {"key": "icans", "label": "Highest ICANS", "type": "grade"},
                {"key": "ecog", "label": "ECOG status", "type": "ecog"},
            ],
        },
        {
            "key": "plan",
            "title": "The plan",
            "fields": [
                {"key": "meds", "label": "Current medications", "type": "medication_list"},
                {"key": "labs", "label": "Lab schedule", "type": "lab_schedule"},
            ],
        },
    ]
}


def shipped(name: str = "Toxicity transfer") -> HandoffTemplate:
    return HandoffTemplate.objects.get(name=name, owner_site=None)


def site_admin() -> User:
    return UserFactory.create(email="admin@carecoord.test", full_name="Ada Admin", is_staff=True)


def edit_url(template: HandoffTemplate) -> str:
    return reverse("handoff-template-edit", kwargs={"template_id": template.pk})


def preview_url(template: HandoffTemplate) -> str:
    return reverse("handoff-template-preview", kwargs={"template_id": template.pk})


def publish_url(version: HandoffTemplateVersion) -> str:
    return reverse("handoff-template-publish", kwargs={"version_id": version.pk})


def with_extra_field(schema: dict[str, Any]) -> dict[str, Any]:
    changed = json.loads(json.dumps(schema))
    changed["sections"][0]["fields"].append({"key": "new_note", "label": "A new note", "type": "long_text"})
    return changed


def center_template(world: World) -> HandoffTemplate:
    return template_create(
        actor=world.center_coordinator, name="Lakeside discharge", description="Ours.", owner_site=world.center
    )


# --- Shipped templates ------------------------------------------------------------------------


def current(template: HandoffTemplate) -> HandoffTemplateVersion:
    version = published_version(template)
    assert version is not None
    return version


# The transition template has a third version (counts, immune recovery and late effects).
LATEST = {"Post-CAR-T transition to community care": 3, "Referral packet": 2, "Toxicity transfer": 2}


def test_the_three_shipped_templates_are_shared_with_their_published_versions_all_kept() -> None:
    for name in SHIPPED:
        template = shipped(name)
        versions = list(template.versions.all())
        assert [(v.number, v.status) for v in versions] == [(n, "published") for n in range(LATEST[name], 0, -1)]
        for version in versions:
            assert version.published_at is not None
            validate_schema(version.schema)
        assert current(template).number == LATEST[name]


def test_the_list_shows_every_shared_template_with_its_versions_to_a_site_admin(client: Client, world: World) -> None:
    response = login(client, site_admin()).get(reverse("handoff-template-list"))
    assert response.status_code == 200
    body = response.content.decode()
    for name in SHIPPED:
        assert name in body
        assert edit_url(shipped(name)) in body
    assert "Published" in body
    assert "no-store" in response["Cache-Control"]


def test_the_list_is_read_only_for_a_physician(client: Client, world: World) -> None:
    response = login(client, world.community_oncologist).get(reverse("handoff-template-list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Toxicity transfer" in body and "Read-only" in body
    assert "/edit/" not in body
    assert reverse("handoff-template-create") not in body


def test_list_queries_do_not_grow_with_templates_and_versions(client: Client, world: World) -> None:
    login(client, world.center_coordinator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("handoff-template-list")).status_code == 200
        return len(captured.captured_queries)

    before = queries()
    for number in range(3):
        template = template_create(
            actor=world.center_coordinator, name=f"Ours {number}", description="", owner_site=world.center
        )
        template_draft(actor=world.center_coordinator, template=template, schema=EVERY_TYPE)
    assert queries() == before


# --- Versions: a published version never changes ---------------------------------------------


def test_editing_a_shipped_template_saves_a_new_draft_and_leaves_the_published_one_unchanged(
    client: Client, world: World
) -> None:
    template = shipped()
    v1 = current(template)
    v1_schema = json.loads(json.dumps(v1.schema))
    login(client, site_admin())
    page = client.get(edit_url(template))
    assert page.status_code == 200
    # The textarea starts from the latest version.
    assert page.context["form"].initial["schema"] == json.dumps(v1.schema, indent=2, ensure_ascii=False)
    response = client.post(edit_url(template), {"schema": json.dumps(with_extra_field(v1.schema))})
    assert response.status_code == 302
    v2 = template.versions.get(number=v1.number + 1)
    assert v2.status == HandoffTemplateVersion.Status.DRAFT
    assert v2.schema["sections"][0]["fields"][-1]["key"] == "new_note"
    v1.refresh_from_db()
    assert (v1.status, v1.schema) == (HandoffTemplateVersion.Status.PUBLISHED, v1_schema)


def test_saving_again_changes_the_same_draft_instead_of_adding_versions(client: Client, world: World) -> None:
    template = shipped()
    login(client, site_admin())
    client.post(edit_url(template), {"schema": json.dumps(EVERY_TYPE)})
    client.post(edit_url(template), {"schema": json.dumps(with_extra_field(EVERY_TYPE))})
    assert list(template.versions.values_list("number", "status")) == [
        (3, "draft"),
        (2, "published"),
        (1, "published"),
    ]
    assert template.versions.get(number=3).schema == with_extra_field(EVERY_TYPE)


def test_publishing_a_new_version_makes_new_handoffs_use_it_while_started_ones_keep_theirs(
    client: Client, world: World
) -> None:
    template = shipped()
    v1 = current(template)

    def start() -> Handoff:
        return handoff_start(
            actor=world.center_coordinator,
            patient=world.shared_patient,
            template=template,
            from_site=world.center,
            to_site=world.practice,
        )

    old = start()
    login(client, site_admin())
    client.post(edit_url(template), {"schema": json.dumps(with_extra_field(v1.schema))})
    v2 = template.versions.get(number=v1.number + 1)
    assert start().version == v1, "a draft is not used until it is published"
    response = client.post(publish_url(v2), follow=True)
    assert response.status_code == 200
    assert f"v{v2.number} published" in response.content.decode()
    v2.refresh_from_db()
    assert v2.status == HandoffTemplateVersion.Status.PUBLISHED and v2.published_at is not None
    new = start()
    assert new.version == v2
    old.refresh_from_db()
    assert old.version == v1
    assert "new_note" not in json.dumps(old.version.schema)


def test_publishing_a_published_version_again_changes_nothing(client: Client, world: World) -> None:
    v1 = current(shipped())
    response = login(client, site_admin()).post(publish_url(v1), follow=True)
    assert "already published" in response.content.decode()
    assert shipped().versions.count() == 2


def test_a_published_version_page_is_read_only(client: Client, world: World) -> None:
    v1 = current(shipped())
    response = login(client, world.community_oncologist).get(
        reverse("handoff-template-version", kwargs={"version_id": v1.pk})
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "A published version never changes" in body
    assert "<form" not in body.split('id="main"')[1]
    assert "What happened" in body


def test_version_times_are_on_the_viewers_clock(client: Client, world: World) -> None:
    v1 = current(shipped())
    HandoffTemplateVersion.objects.filter(pk=v1.pk).update(published_at=dt.datetime(2026, 12, 1, 20, 5, tzinfo=dt.UTC))
    body = (
        login(client, world.community_oncologist)
        .get(reverse("handoff-template-version", kwargs={"version_id": v1.pk}))
        .content.decode()
    )
    assert "Published 1 Dec 2026, 14:05 CST." in body


# --- Bad schemas ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"sections": []}, "sections: a template needs at least one section."),
        (
            {"sections": [{"key": "a", "title": "A", "fields": [{"key": "x", "label": "X", "type": "colour"}]}]},
            "section 1, field 1: type must be one of",
        ),
        (
            {"sections": [{"key": "a", "title": "A", "fields": [{"key": "x", "label": "X", "type": "choice"}]}]},
            "a choice field needs at least two choices",
        ),
        ([1, 2], "sections: a template needs at least one section."),
    ],
)
def test_a_bad_schema_shows_the_schema_error_on_the_field_and_saves_nothing(
    client: Client, world: World, schema: Any, message: str
) -> None:
    template = shipped()
    response = login(client, site_admin()).post(edit_url(template), {"schema": json.dumps(schema)})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["schema"])
    assert message in response.content.decode()
    assert template.versions.count() == 2


def test_text_that_is_not_json_says_where_it_breaks(client: Client, world: World) -> None:
    template = shipped()
    response = login(client, site_admin()).post(edit_url(template), {"schema": '{"sections": [\n  oops]}'})
    assert response.status_code == 400
    assert "Not valid JSON (line 2, column 3)" in response.context["form"].errors["schema"][0]
    assert template.versions.count() == 2


# --- The live preview ------------------------------------------------------------------------


def preview(client: Client, template: HandoffTemplate, text: str) -> str:
    response = client.post(preview_url(template), {"schema": text}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def test_preview_renders_every_field_type(client: Client, world: World) -> None:
    assert {f["type"] for s in EVERY_TYPE["sections"] for f in s["fields"]} == set(FIELD_TYPES)
    html = preview(login(client, site_admin()), shipped(), json.dumps(EVERY_TYPE))
    assert "<html" not in html, "htmx gets the partial only"
    assert "<legend>Basics of the stay</legend>" in html and "<legend>The plan</legend>" in html
    assert '<label for="preview-basics-product">Product name <span class="hot-required">required</span>' in html
    assert '<p class="hot-help" id="preview-basics-product-help">Brand name.</p>' in html
    assert '<input type="text" id="preview-basics-product" aria-describedby="preview-basics-product-help">' in html
    assert '<textarea id="preview-basics-summary"' in html
    assert '<input type="date" id="preview-basics-infused_on"' in html
    assert '<input type="number" step="any" id="preview-basics-crs"' in html
    assert "Prefilled from carecoord: highest_crs_grade" in html
    assert '<select id="preview-basics-eligibility"' in html
    assert "<option>eligible</option>" in html and "<option>not</option>" in html
    assert 'type="radio" name="preview-basics-irradiated" value="yes"' in html
    assert 'type="radio" name="preview-basics-irradiated" value="no"' in html
    for column in ("Drug", "Dose", "Frequency", "Until", "Test"):
        assert f'<th scope="col">{column}</th>' in html
    assert "one row per medication" in html and "one row per test" in html


def test_preview_shows_the_schema_error_instead_of_a_form(client: Client, world: World) -> None:
    login(client, site_admin())
    broken = {"sections": [{"key": "Bad Key", "title": "A", "fields": []}]}
    html = preview(client, shipped(), json.dumps(broken))
    assert "The schema cannot be used yet." in html
    assert "section 1: key must be unique" in html
    assert "<fieldset" not in html
    assert "Not valid JSON" in preview(client, shipped(), "{")


def test_preview_saves_nothing(client: Client, world: World) -> None:
    preview(login(client, site_admin()), shipped(), json.dumps(EVERY_TYPE))
    assert shipped().versions.count() == 2


def test_preview_without_javascript_shows_the_editor_as_typed(client: Client, world: World) -> None:
    response = login(client, site_admin()).post(preview_url(shipped()), {"schema": json.dumps(EVERY_TYPE)})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Save draft version" in body and "Basics of the stay" in body
    assert json.loads(response.context["form"].initial["schema"]) == EVERY_TYPE


def test_the_editor_posts_keystrokes_to_the_preview_with_htmx(client: Client, world: World) -> None:
    template = shipped()
    body = login(client, site_admin()).get(edit_url(template)).content.decode()
    assert f'hx-post="{preview_url(template)}"' in body
    assert 'hx-trigger="input delay:500ms from:#id_schema"' in body and 'hx-sync="this:queue last"' in body
    assert 'id="schema-preview"' in body


# --- Who may edit ----------------------------------------------------------------------------


def test_a_coordinator_who_is_not_staff_gets_403_on_a_shared_template(client: Client, world: World) -> None:
    template = shipped()
    v1 = current(template)
    login(client, world.center_coordinator)
    assert client.get(edit_url(template)).status_code == 403
    assert client.post(edit_url(template), {"schema": json.dumps(EVERY_TYPE)}).status_code == 403
    assert client.post(preview_url(template), {"schema": "{}"}).status_code == 403
    assert client.post(publish_url(v1)).status_code == 403
    assert template.versions.count() == 2


def test_publishing_a_shared_draft_is_403_for_a_coordinator(client: Client, world: World) -> None:
    template = shipped()
    draft = template_draft(actor=site_admin(), template=template, schema=EVERY_TYPE)
    assert login(client, world.center_coordinator).post(publish_url(draft)).status_code == 403
    draft.refresh_from_db()
    assert draft.status == HandoffTemplateVersion.Status.DRAFT


def test_a_site_coordinator_creates_edits_and_publishes_their_sites_template(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    form = client.get(reverse("handoff-template-create"))
    assert form.status_code == 200
    assert list(form.context["form"].fields["owner_site"].queryset) == [world.center]
    response = client.post(
        reverse("handoff-template-create"),
        {"name": "Lakeside discharge", "description": "Our own.", "owner_site": world.center.pk},
    )
    template = HandoffTemplate.objects.get(name="Lakeside discharge")
    assert response.status_code == 302 and response["Location"] == edit_url(template)
    assert template.owner_site == world.center
    assert client.post(edit_url(template), {"schema": json.dumps(EVERY_TYPE)}).status_code == 302
    v1 = template.versions.get()
    assert (v1.number, v1.status, v1.created_by) == (1, "draft", world.center_coordinator)
    assert client.post(publish_url(v1)).status_code == 302
    v1.refresh_from_db()
    assert v1.status == HandoffTemplateVersion.Status.PUBLISHED


def test_a_coordinator_cannot_create_a_shared_template_or_one_for_another_site(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    url = reverse("handoff-template-create")
    shared = client.post(url, {"name": "For everyone", "owner_site": ""})
    assert shared.status_code == 400 and "owner_site" in shared.context["form"].errors
    other = client.post(url, {"name": "For them", "owner_site": world.practice.pk})
    assert other.status_code == 400 and "owner_site" in other.context["form"].errors
    assert not HandoffTemplate.objects.filter(name__startswith="For ").exists()


def test_a_site_admin_creates_a_shared_template(client: Client, world: World) -> None:
    response = login(client, site_admin()).post(
        reverse("handoff-template-create"), {"name": "Readmission", "description": "", "owner_site": ""}
    )
    assert response.status_code == 302
    assert HandoffTemplate.objects.get(name="Readmission").owner_site is None


def test_a_template_name_already_taken_is_400_on_name(client: Client, world: World) -> None:
    response = login(client, site_admin()).post(
        reverse("handoff-template-create"), {"name": "toxicity transfer", "owner_site": ""}
    )
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["name"][0]


def test_a_physician_gets_403_creating_a_template(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    assert client.get(reverse("handoff-template-create")).status_code == 403
    payload = {"name": "Mine", "owner_site": world.practice.pk}
    assert client.post(reverse("handoff-template-create"), payload).status_code == 403
    assert not HandoffTemplate.objects.filter(name="Mine").exists()


def test_a_physician_at_the_owning_site_sees_its_template_but_gets_403_editing_it(client: Client, world: World) -> None:
    template = center_template(world)
    physician = member(world.center, Role.PHYSICIAN, email="doc@lakeside.test")
    login(client, physician)
    assert "Lakeside discharge" in client.get(reverse("handoff-template-list")).content.decode()
    assert client.get(edit_url(template)).status_code == 403


def test_outsider_gets_404_for_another_sites_template_and_its_versions(client: Client, world: World) -> None:
    template = center_template(world)
    draft = template_draft(actor=world.center_coordinator, template=template, schema=EVERY_TYPE)
    login(client, world.outsider)
    assert client.get(edit_url(template)).status_code == 404
    assert client.post(edit_url(template), {"schema": json.dumps(EVERY_TYPE)}).status_code == 404
    assert client.post(preview_url(template), {"schema": "{}"}).status_code == 404
    assert client.post(publish_url(draft)).status_code == 404
    assert client.get(reverse("handoff-template-version", kwargs={"version_id": draft.pk})).status_code == 404
    assert "Lakeside discharge" not in client.get(reverse("handoff-template-list")).content.decode()
    draft.refresh_from_db()
    assert draft.status == HandoffTemplateVersion.Status.DRAFT


def test_a_database_made_before_today_loses_the_outside_reference_in_the_transition_description():
    """Migration 0005 rewrites the shipped description where it is still the shipped text, and
    leaves a description a site has written alone."""
    from django.apps import apps

    forwards = importlib.import_module("handoffs.migrations.0005_transition_description").forwards
    shipped = HandoffTemplate.objects.get(name="Post-CAR-T transition to community care", owner_site=None)
    old = "The hand-back to the community practice after the monitoring period (an old note, section 6)."
    HandoffTemplate.objects.filter(pk=shipped.pk).update(description=old)
    edited = HandoffTemplate.objects.create(name="Our own", description="Ours (kept, section 6).")

    forwards(apps, None)

    shipped.refresh_from_db()
    edited.refresh_from_db()
    assert shipped.description == "The hand-back to the community practice after the monitoring period."
    assert edited.description == "Ours (kept, section 6)."
