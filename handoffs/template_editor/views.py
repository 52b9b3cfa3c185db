"""The hand-off template editor, for site administrators (shared templates) and site coordinators
(their site's own templates).

A template's content is a JSON schema edited in a textarea; as it is typed, htmx posts it to
`template_preview`, which answers with the form the schema describes, or the SchemaError that
stops it, saving nothing. "Save draft version" keeps the next version as a draft; publishing it
makes it the version new hand-offs use. A published version never changes. Every route loads
its template or version through the access path first, so one the user cannot see is a 404
whatever the method; then the method is checked, then the permission (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers

from carecoord.models import Site
from carecoord.selectors.sites import active_memberships_of, sites_directory
from carecoord.web.forms import add_service_errors
from carecoord.web.shortcuts import (
    POST,
    SAFE,
    SAFE_AND_POST,
    HtmxHttpRequest,
    actor,
    flash_errors,
    loads,
    viewer_zone,
)
from handoffs.models import HandoffTemplate, HandoffTemplateVersion
from handoffs.selectors import get_template_for_user, get_version_for_user, templates_visible_to
from handoffs.services import template_draft, template_publish
from handoffs.template_editor.forms import (
    STARTER_SCHEMA,
    Preview,
    SchemaForm,
    TemplateCreateForm,
    preview_of,
    preview_of_text,
    schema_text,
)
from handoffs.template_editor.services import (
    coordinated_site_ids,
    may_edit,
    require_template_editor,
    template_create,
)


@dataclass(frozen=True)
class TemplateRow:
    template: HandoffTemplate
    versions: list[HandoffTemplateVersion]
    editable: bool

    @property
    def published(self) -> HandoffTemplateVersion | None:
        """The version new hand-offs use: the highest published one."""
        return next((v for v in self.versions if v.status == HandoffTemplateVersion.Status.PUBLISHED), None)

    @property
    def draft(self) -> HandoffTemplateVersion | None:
        return next((v for v in self.versions if v.status == HandoffTemplateVersion.Status.DRAFT), None)


def _versions() -> QuerySet[HandoffTemplateVersion]:
    return HandoffTemplateVersion.objects.select_related("created_by").order_by("-number")


# --- The list ---------------------------------------------------------------------------------


@login_required
@require_safe
def template_list(request: HttpRequest) -> HttpResponse:
    """Every template the user may use, with its versions; editing links for those they may edit."""
    memberships = active_memberships_of(request.user)
    coordinated = coordinated_site_ids(request.user)
    templates = (
        templates_visible_to(request.user)
        .select_related("owner_site")
        .prefetch_related(Prefetch("versions", queryset=_versions()))
        .order_by("owner_site__name", "name")
    )
    rows = [
        TemplateRow(template, list(template.versions.all()), may_edit(request.user, template, coordinated))
        for template in templates
    ]
    context = {
        "memberships": memberships,
        "rows": rows,
        "may_create": request.user.is_staff or bool(coordinated),
    }
    return render(request, "handoffs/templates_list.html", context)


# --- Creating a template ----------------------------------------------------------------------


def _owner_choices(request: HttpRequest) -> QuerySet[Site]:
    if request.user.is_staff:
        return sites_directory()
    return sites_directory().filter(pk__in=coordinated_site_ids(request.user))


@login_required
@require_http_methods(SAFE_AND_POST)
def template_create_view(request: HttpRequest) -> HttpResponse:
    """A new template, shared (site administrators) or owned by a site (its coordinators)."""
    sites = _owner_choices(request)
    may_share = request.user.is_staff
    if not may_share and not sites.exists():
        raise PermissionDenied("Only site administrators and site coordinators create templates.")
    context: dict[str, Any] = {"memberships": active_memberships_of(request.user)}
    if request.method != "POST":
        context["form"] = TemplateCreateForm(sites=sites, may_share=may_share)
        return render(request, "handoffs/templates_create.html", context)
    form = TemplateCreateForm(request.POST, sites=sites, may_share=may_share)
    if form.is_valid():
        try:
            template = template_create(
                actor=actor(request),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                owner_site=form.cleaned_data["owner_site"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{template.name} created. Write its first version, then publish it.")
            return redirect("handoff-template-edit", template_id=template.pk)
    context["form"] = form
    return render(request, "handoffs/templates_create.html", context, status=400)


# --- Editing a template -----------------------------------------------------------------------


def _edit_context(
    request: HttpRequest, template: HandoffTemplate, form: SchemaForm, preview: Preview
) -> dict[str, Any]:
    versions = list(_versions().filter(template=template))
    row = TemplateRow(template, versions, editable=True)
    memberships = active_memberships_of(request.user)
    return {
        "memberships": memberships,
        "zone": viewer_zone(memberships),
        "template": template,
        "versions": versions,
        "published": row.published,
        "draft": row.draft,
        "next_number": row.draft.number if row.draft else (versions[0].number + 1 if versions else 1),
        "form": form,
        "preview": preview,
    }


def _latest_schema(template: HandoffTemplate) -> Any:
    latest = template.versions.order_by("-number").first()
    return latest.schema if latest is not None else STARTER_SCHEMA


@login_required
@loads(get_template_for_user, "template_id", methods=SAFE_AND_POST)
def template_edit(request: HttpRequest, template: HandoffTemplate) -> HttpResponse:
    """The next version's schema, with a live preview; saving keeps it as a draft version."""
    require_template_editor(actor=actor(request), template=template)
    if request.method != "POST":
        schema = _latest_schema(template)
        form = SchemaForm(initial={"schema": schema_text(schema)})
        context = _edit_context(request, template, form, preview_of(schema))
        return render(request, "handoffs/templates_edit.html", context)
    form = SchemaForm(request.POST)
    if form.is_valid():
        try:
            version = template_draft(actor=actor(request), template=template, schema=form.cleaned_data["schema"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Draft v{version.number} saved. New hand-offs use it once it is published.")
            return redirect("handoff-template-edit", template_id=template.pk)
    # The error summary at the top of the form takes the focus and links to the schema.
    preview = preview_of_text(request.POST.get("schema", ""))
    return render(request, "handoffs/templates_edit.html", _edit_context(request, template, form, preview), status=400)


@vary_on_headers("HX-Request")
@login_required
@loads(get_template_for_user, "template_id", methods=POST)
def template_preview(request: HtmxHttpRequest, template: HandoffTemplate) -> HttpResponse:
    """The form the posted schema describes, or its SchemaError: a partial for htmx, the editor otherwise."""
    require_template_editor(actor=actor(request), template=template)
    text = request.POST.get("schema", "")
    preview = preview_of_text(text)
    if request.htmx:
        return render(request, "handoffs/templates_preview.html", {"preview": preview})
    # Without JavaScript the "Show the preview" button lands here: the editor again, as typed.
    form = SchemaForm(initial={"schema": text})
    return render(request, "handoffs/templates_edit.html", _edit_context(request, template, form, preview))


@login_required
@loads(get_version_for_user, "version_id", methods=POST)
def template_publish_view(request: HttpRequest, version: HandoffTemplateVersion) -> HttpResponse:
    """Publish a draft version: new hand-offs use it, those already started keep theirs."""
    try:
        version = template_publish(actor=actor(request), version=version)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, f"v{version.number} published: new hand-offs use it.")
    return redirect("handoff-template-edit", template_id=version.template_id)


@login_required
@loads(get_version_for_user, "version_id", methods=SAFE)
def template_version(request: HttpRequest, version: HandoffTemplateVersion) -> HttpResponse:
    """One version, read-only: the form it describes and its schema."""
    memberships = active_memberships_of(request.user)
    context = {
        "memberships": memberships,
        "zone": viewer_zone(memberships),
        "version": version,
        "template": version.template,
        "preview": preview_of(version.schema),
        "schema_text": schema_text(version.schema),
        "editable": may_edit(request.user, version.template, coordinated_site_ids(request.user)),
    }
    return render(request, "handoffs/templates_version.html", context)
