"""Referral pages: parse the request, call a service or selector, render. No access rules here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers

from carecoord.access import get_patient_for_user, require_capability
from carecoord.reads import shown
from carecoord.records_on_file import records_on_file
from carecoord.referral_prefill import referral_prefill
from carecoord.roles import Capability
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.choice_cache import cached_choices
from carecoord.web.forms import add_service_errors
from carecoord.web.list_forms import CappedPaginator, address_of, list_response
from carecoord.web.shortcuts import POST, SAFE_AND_POST, HtmxHttpRequest, actor, loads, viewer_zone
from referrals.downloads import document_download
from referrals.forms import DocumentForm, MoveForm, PlanForm, ReferralDraftForm, ReferralForm
from referrals.models import Referral
from referrals.readiness import DOCUMENT_LABELS, checklist, needed
from referrals.referral_list import ReferralListForm, filtered_referrals, sites_of_referrals
from referrals.selectors import (
    can_refer,
    get_document_for_user,
    get_referral_for_user,
    referral_sides,
    referrals_visible_to,
)
from referrals.services import (
    referral_attach_document,
    referral_edit_draft,
    referral_move,
    referral_set_plan,
    referral_start,
)
from referrals.workflow import STATE_LABELS, Move, Side, State, moves_available

REFERRALS_PER_PAGE = 25

MOVE_LABELS: dict[Move, str] = {
    Move.SUBMIT: "Submit to center",
    Move.ACKNOWLEDGE: "Acknowledge receipt",
    Move.START_REVIEW: "Start review",
    Move.SCHEDULE_CONSULT: "Schedule consult",
    Move.ACCEPT: "Accept",
    Move.DECLINE: "Decline",
    Move.WITHDRAW: "Withdraw",
}


@dataclass(frozen=True)
class ReferralRow:
    referral: Referral
    overdue: bool


@vary_on_headers("HX-Request")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def referral_list(request: HtmxHttpRequest) -> HttpResponse:
    """The referrals of the user's patients, found by patient (posted words), filtered and sorted;
    an htmx request gets only the results, with the address-safe filters pushed to the address."""
    memberships = active_memberships_of(request.user)
    visible = referrals_visible_to(request.user)
    form = ReferralListForm(
        ReferralListForm.data_of(request),
        sites=lambda: cached_choices("referral-sites", request.user.pk, lambda: sites_of_referrals(visible)),
    )
    asked = form.asked()
    now = timezone.now()
    referrals = filtered_referrals(visible, asked, user=request.user, memberships=memberships, now=now)
    page = CappedPaginator(referrals, REFERRALS_PER_PAGE).get_page(asked.get("page"))
    shown(page, verb="listed")
    state = asked.get("state", "")
    context = {
        "memberships": memberships,
        "zone": viewer_zone(memberships),
        "form": form,
        "filtered": form.filtered(),
        "state": state,
        "state_label": STATE_LABELS[State(state)] if state else "",
        "page": page,
        "rows": [ReferralRow(r, r.is_acknowledgement_overdue(now)) for r in page],
        "can_refer": can_refer(memberships),
        "export_url": address_of(form, "referral-export", paged=False),
    }
    return list_response(request, "referrals/referral_list.html", context, form=form, url_name="referral-list")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def referral_create_page(request: HttpRequest) -> HttpResponse:
    """A new referral for an existing or a new patient; saved as a draft or submitted."""
    user = actor(request)
    memberships = active_memberships_of(user)
    if request.method == "POST":
        form = ReferralForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            try:
                referral = referral_start(
                    actor=user,
                    patient=form.patient_to_refer(),
                    from_site=form.cleaned_data["from_site"],
                    to_center=form.cleaned_data["to_center"],
                    referring_physician=form.cleaned_data["referring_physician"],
                    documents=form.uploads().items(),
                    submit=request.POST.get("action") == "submit",
                    **form.referral_fields(),
                )
            except ValidationError as exc:
                form.add_start_error(exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or "Your role does not allow this.")
            else:
                form.discard_pending()
                done = "submitted to the center" if referral.state == State.SUBMITTED else "saved as a draft"
                messages.success(request, f"Referral #{referral.pk} {done}.")
                return redirect("referral-detail", referral_id=referral.pk)
            finally:
                form.close_pending()
        if form.practices:
            form.keep_uploads()  # the chosen files come back listed, not lost with the round
        status = 403 if not form.practices else 400
    else:
        form = ReferralForm(initial=_create_initial(request), user=user)
        status = 200
    context = {"memberships": memberships, "form": form}
    return render(request, "referrals/referral_form.html", context, status=status)


def _create_initial(request: HttpRequest) -> dict[str, Any]:
    """The patient named in ?patient=, chosen in advance (404 if not theirs), with what the apps
    know of them (`carecoord.referral_prefill`: the treatment history)."""
    if not request.GET.get("patient"):
        return {}
    patient = get_patient_for_user(request.user, request.GET["patient"])
    chosen = {"patient_mode": ReferralForm.EXISTING, "patient": patient.pk, "disease_area": patient.disease_area}
    return chosen | referral_prefill(patient)


@login_required
@loads(get_referral_for_user, "referral_id", methods=SAFE_AND_POST)
def referral_edit_page(request: HttpRequest, referral: Referral) -> HttpResponse:
    """The referring practice corrects its draft: the fields of a new referral, the same checks.

    403 for anyone who may not act for the practice (the center among them); a referral no
    longer a draft goes back to its page, saying why."""
    user = actor(request)
    if not any(side == Side.PRACTICE for side, _ in referral_sides(user, referral)):
        raise PermissionDenied("Only the referring practice can edit its draft.")
    if referral.state != State.DRAFT:
        label = STATE_LABELS[State(referral.state)].lower()
        messages.error(request, f"Only a draft can be edited; referral #{referral.pk} is {label}.")
        return redirect("referral-detail", referral_id=referral.pk)
    shown(referral)
    if request.method == "POST":
        form = ReferralDraftForm(request.POST, referral=referral)
        if form.is_valid():
            try:
                changed = referral_edit_draft(
                    actor=user,
                    referral=referral,
                    to_center=form.cleaned_data["to_center"],
                    referring_physician=form.cleaned_data["referring_physician"],
                    **form.referral_fields(),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                done = "saved" if changed else "unchanged"
                messages.success(request, f"Draft referral #{referral.pk} {done}; it is not yet submitted.")
                return redirect("referral-detail", referral_id=referral.pk)
        status = 400
    else:
        form, status = ReferralDraftForm(referral=referral), 200
    context = {"memberships": active_memberships_of(user), "referral": referral, "form": form}
    return render(request, "referrals/referral_edit.html", context, status=status)


ActionForm = MoveForm | DocumentForm | PlanForm


def _detail(
    request: HttpRequest, referral: Referral, failed: ActionForm | None = None, status: int = 200
) -> HttpResponse:
    """The referral page; a form that did not go through comes back with its errors."""
    user = actor(request)
    memberships = active_memberships_of(user)
    sides = referral_sides(user, referral)
    documents = list(referral.documents.select_related("uploaded_by"))
    items = checklist(referral.disease_area, [d.kind for d in documents], records_on_file(referral.patient_id))
    history = [(m, STATE_LABELS[State(m.to_state)]) for m in referral.moves.select_related("actor", "site")]
    available = [move for side, _ in sides for move in moves_available(State(referral.state), side)]
    context = {
        "memberships": memberships,
        "zone": viewer_zone(memberships),
        "referral": referral,
        "state_label": STATE_LABELS[State(referral.state)],
        "overdue": referral.is_acknowledgement_overdue(),
        "documents": documents,
        "checklist": items,
        "missing": [item.label for item in items if not item.on_file],
        "needed_missing": [item.label for item in needed(items) if not item.on_file],
        "history": history,
        "acting_for": " and ".join(site.name for _, site in sides),
        "available_moves": [(m.value, MOVE_LABELS[m]) for m in available],
        "move_form": failed if isinstance(failed, MoveForm) else MoveForm(),
        "document_form": failed if isinstance(failed, DocumentForm) else DocumentForm(),
        "can_add_documents": bool(sides) and referral.is_open,
        "can_edit": referral.state == State.DRAFT and any(side == Side.PRACTICE for side, _ in sides),
        "can_plan": any(side == Side.CENTER for side, _ in sides)
        and referral.state in {State.UNDER_REVIEW, State.CONSULT_SCHEDULED, State.ACCEPTED},
        "plan_form": failed
        if isinstance(failed, PlanForm)
        else PlanForm(initial={"product": referral.product_id, "hand_back_day": referral.hand_back_day}),
    }
    return render(request, "referrals/referral_detail.html", context, status=status)


@login_required
@require_safe
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    """One referral: its fields, documents, checklist, history and the viewer's next moves."""
    referral = get_referral_for_user(request.user, referral_id)
    shown(referral)
    return _detail(request, referral)


def _act(request: HttpRequest, referral: Referral, form: ActionForm, action: Callable[[], str]) -> HttpResponse:
    """Run the service if the form is valid: a message and the page (PRG), or the page again
    with the errors next to their fields (400; 403 when the role does not allow it)."""
    if not form.is_valid():
        return _detail(request, referral, form, status=400)
    try:
        message = action()
    except ValidationError as exc:
        add_service_errors(form, exc)
        status = 400
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or "Your role does not allow this.")
        status = 403
    else:
        messages.success(request, message)
        return redirect("referral-detail", referral_id=referral.pk)
    # Read again: the service may have changed the instance before it refused.
    return _detail(request, get_referral_for_user(request.user, referral.pk), form, status=status)


def _require_recording(request: HttpRequest, referral: Referral) -> None:
    """Before the form: a role that may not record care is refused (403) whatever it posts."""
    require_capability(request.user, referral.patient, Capability.RECORD_CARE)


@login_required
@loads(get_referral_for_user, "referral_id", methods=POST)
def referral_move_view(request: HttpRequest, referral: Referral) -> HttpResponse:
    """Make one move as the viewer's side; errors are shown on the referral page."""
    _require_recording(request, referral)
    form = MoveForm(request.POST)

    def action() -> str:
        moved = referral_move(
            actor=actor(request),
            referral=referral,
            move=Move(form.cleaned_data["move"]),
            note=form.cleaned_data["note"],
            decline_reason=form.cleaned_data["decline_reason"],
            consult_on=form.consult_date(),
        )
        return f"Referral #{moved.pk} is now {STATE_LABELS[State(moved.state)].lower()}."

    return _act(request, referral, form, action)


@login_required
@loads(get_referral_for_user, "referral_id", methods=POST)
def referral_document_add(request: HttpRequest, referral: Referral) -> HttpResponse:
    """Attach one more checklist document to an open referral."""
    _require_recording(request, referral)
    form = DocumentForm(request.POST, request.FILES)

    def action() -> str:
        document = referral_attach_document(
            actor=actor(request), referral=referral, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
        )
        return f"{DOCUMENT_LABELS[document.kind]} added: {document.original_name}."

    return _act(request, referral, form, action)


@login_required
@loads(get_referral_for_user, "referral_id", methods=POST)
def referral_plan(request: HttpRequest, referral: Referral) -> HttpResponse:
    """The center sets the product and the planned hand-back day."""
    _require_recording(request, referral)
    form = PlanForm(request.POST)

    def action() -> str:
        referral_set_plan(
            actor=actor(request),
            referral=referral,
            product=form.cleaned_data["product"],
            hand_back_day=form.cleaned_data["hand_back_day"],
        )
        return "Treatment plan saved."

    return _act(request, referral, form, action)


@login_required
@require_safe
def referral_document(request: HttpRequest, document_id: int) -> FileResponse:
    """Download a document through the access path, never from a public media URL."""
    document = get_document_for_user(request.user, document_id)
    try:
        response = document_download(request, document)
    except FileNotFoundError as exc:
        raise Http404("The file is missing.") from exc
    response["X-Content-Type-Options"] = "nosniff"
    return response
