"""The referral API: referrals and their moves, documents, milestones, comments and the timeline.

Thin like `carecoord.api.views`: every object behind a URL comes from a scoped selector, so one
outside the user's scope answers 404 whatever the method; a role that may not act answers 403
(the services raise it); bad input answers 400 with a message per field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from carecoord.access import (
    acting_capabilities,
    get_patient_for_user,
    get_visible_or_404,
    patients_visible_to,
    require_capability,
)
from carecoord.api.idempotency import IdempotentWritesMixin
from carecoord.api.views import PATIENT_ID, RecordCareActionsMixin, ScopeBeforeMethodMixin, actor_of
from carecoord.models import Patient
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.related import load_related
from carecoord.selectors.sites import active_memberships_of
from carecoord.services.comments import comment_post
from carecoord.timeline import comments_of, timeline_of
from carecoord.web.shortcuts import viewer_zone
from referrals import filters
from referrals import serializers as s
from referrals.day_zero import day_zero_of, day_zero_subquery
from referrals.documents import EXTENSIONS
from referrals.downloads import document_download
from referrals.milestones.services import (
    milestone_cancel,
    milestone_complete,
    milestone_confirm_conflict,
    milestone_correct_done,
    milestone_move,
    milestone_plan,
    milestone_set_infusion,
    require_day_zero_site,
)
from referrals.models import Milestone, Referral, ReferralDocument, ReferralMove
from referrals.selectors import (
    documents_visible_to,
    get_document_for_user,
    get_milestone_for_user,
    milestones_visible_to,
    patient_timeline,
    referrals_visible_to,
)
from referrals.services import (
    referral_attach_document,
    referral_create,
    referral_create_with_patient,
    referral_move,
    referral_set_plan,
)
from referrals.workflow import Move

REFERRAL_ID = OpenApiParameter("referral_id", int, OpenApiParameter.PATH)
DOCUMENT_ID = OpenApiParameter("document_id", int, OpenApiParameter.PATH)
MILESTONE_ID = OpenApiParameter("milestone_id", int, OpenApiParameter.PATH)
DOCUMENT_CONTENT_TYPES = sorted(EXTENSIONS)


def _parse(serializer_class: type[Any], request: Request, context: Mapping[str, Any]) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _viewer_zone(request: Request) -> dt.tzinfo:
    """Dates are shown in the time zone of the viewer's site; UTC for someone at none.

    See docs/architecture.md#times-and-dates.
    """
    return viewer_zone(active_memberships_of(request.user))


# --- Referrals ------------------------------------------------------------------------------


def _referral_prefetches() -> list[Prefetch]:
    return [
        Prefetch("moves", queryset=ReferralMove.objects.select_related("actor", "site")),
        Prefetch("documents", queryset=ReferralDocument.objects.select_related("uploaded_by")),
    ]


@extend_schema_view(
    list=extend_schema(
        summary="Referrals of the requesting user's patients, newest first",
        description="Each referral as a summary with its `url`; its history and documents are in the referral.",
    ),
    retrieve=extend_schema(summary="One referral with its history and documents", parameters=[REFERRAL_ID]),
    create=extend_schema(
        summary="Draft a referral to an academic center, for an existing or a new patient",
        request=s.ReferralCreateSerializer,
        responses={201: s.ReferralSerializer},
    ),
)
class ReferralViewSet(
    IdempotentWritesMixin,
    RecordCareActionsMixin,
    ScopeBeforeMethodMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Referral],
):
    """Referrals from community practices to academic centers, and the episode of care that follows."""

    serializer_class = s.ReferralSerializer
    filterset_class = filters.ReferralFilter
    ordering_fields = ["created_at", "submitted_at", "acknowledge_by"]
    lookup_url_kwarg = "referral_id"
    lookup_value_regex = r"[0-9]+"

    def _visible(self, *relations: str) -> QuerySet[Referral]:
        # The product is read beside the referrals (`_load_product`): joined as well, the query
        # took longer to plan than to run.
        referrals = referrals_visible_to(self.request.user).select_related(None)
        return referrals.select_related("from_site", "to_center", "referring_physician", *relations)

    def get_queryset(self) -> QuerySet[Referral]:
        # Only the list reads it (one referral comes through `get_object`): summaries, so
        # neither the history, the documents nor the patient (its id only).
        return self._visible()

    def get_serializer_class(self) -> type[s.ReferralSummarySerializer]:
        return s.ReferralSummarySerializer if self.action == "list" else s.ReferralSerializer

    recording_actions = frozenset({"move", "documents", "infusion", "plan", "milestones"})

    def _load(self, referral_id: object) -> Referral:
        referral = get_visible_or_404(self._visible("patient"), referral_id, "referral")
        load_related([referral], "product")
        return referral

    def get_object(self) -> Referral:
        referral = self._load(self.kwargs[self.lookup_url_kwarg])
        return self.gated(referral, referral.patient)

    def _context(self, referrals: list[Referral]) -> dict[str, Any]:
        # One query each for the whole page, not one per referral.
        acting = acting_capabilities(self.request.user, {r.patient_id for r in referrals})
        return {**self.get_serializer_context(), "acting": acting}

    def _output(self, referral: Referral) -> Any:
        prefetch_related_objects([referral], *_referral_prefetches())
        return s.ReferralSerializer(referral, context=self._context([referral])).data

    def _render(self, referral: Referral, status_code: int = status.HTTP_200_OK) -> Response:
        # Reloaded through the access path: what was written is shown as the user now sees it.
        return Response(self._output(self._load(referral.pk)), status=status_code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        referrals = page if page is not None else list(queryset)
        load_related(referrals, "product")
        data = s.ReferralSummarySerializer(referrals, many=True, context=self._context(referrals)).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._output(self.get_object()))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _parse(s.ReferralCreateSerializer, request, self.get_serializer_context())
        if data.get("patient") is not None:
            # Someone whose role records care for this patient at no site is refused outright;
            # the service then checks the role at the practice the referral comes from.
            require_capability(request.user, data["patient"], Capability.RECORD_CARE)
        new_patient = data.pop("new_patient", None)
        if new_patient is not None:
            mrn = new_patient.pop("mrn")
            referral = referral_create_with_patient(
                actor=actor_of(request), mrn=mrn, patient_fields=dict(new_patient), **data
            )
        else:
            referral = referral_create(actor=actor_of(request), **data)
        return self._render(referral, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Make a move of the referral workflow as your side (practice or center)",
        parameters=[REFERRAL_ID],
        request=s.ReferralMoveInputSerializer,
        responses=s.ReferralSerializer,
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        referral = self.get_object()
        data = _parse(s.ReferralMoveInputSerializer, request, self.get_serializer_context())
        referral = referral_move(actor=actor_of(request), referral=referral, **(data | {"move": Move(data["move"])}))
        return self._render(referral)

    @extend_schema(
        summary="Attach a checklist document to an open referral",
        parameters=[REFERRAL_ID],
        request={"multipart/form-data": s.DocumentUploadSerializer},
        responses={201: s.DocumentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def documents(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        referral = self.get_object()
        data = _parse(s.DocumentUploadSerializer, request, self.get_serializer_context())
        document = referral_attach_document(
            actor=actor_of(request), referral=referral, kind=data["kind"], upload=data["file"]
        )
        document = get_document_for_user(request.user, document.pk)
        return Response(
            s.DocumentSerializer(document, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="The center sets or moves the infusion (day 0); the dates that depend on it are recomputed",
        description="Only the referral's center: anyone else (the referring practice) gets 403.",
        parameters=[REFERRAL_ID],
        request=s.InfusionInputSerializer,
        responses=s.MilestoneSerializer(many=True),
    )
    # The answer is the referral's milestones, whole: not a page, and the referral filters do not apply.
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def infusion(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        referral = self.get_object()
        require_day_zero_site(actor_of(request), referral)  # 403 for the practice, whatever it sends
        data = _parse(s.InfusionInputSerializer, request, self.get_serializer_context())
        milestone_set_infusion(actor=actor_of(request), referral=referral, **data)
        milestones = with_infusion_date(milestones_visible_to(request.user)).filter(referral=referral)
        return Response(s.MilestoneSerializer(milestones, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="The center chooses the product and the hand-back day; planned dates follow",
        parameters=[REFERRAL_ID],
        request=s.TreatmentPlanSerializer,
        responses=s.ReferralSerializer,
    )
    @action(detail=True, methods=["post"])
    def plan(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        referral = self.get_object()
        data = _parse(s.TreatmentPlanSerializer, request, self.get_serializer_context())
        return self._render(referral_set_plan(actor=actor_of(request), referral=referral, **data))

    @extend_schema(
        summary="Plan a preparation step (consult, authorization, apheresis, release, bridging)",
        parameters=[REFERRAL_ID],
        request=s.MilestonePlanSerializer,
        responses={201: s.MilestoneSerializer},
    )
    @action(detail=True, methods=["post"])
    def milestones(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        referral = self.get_object()
        data = _parse(s.MilestonePlanSerializer, request, self.get_serializer_context())
        milestone = milestone_plan(actor=actor_of(request), referral=referral, **data)
        return Response(_render_milestone(request, milestone, self.get_serializer_context()), status.HTTP_201_CREATED)


# --- Documents ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Documents attached to the referrals of the requesting user's patients"),
    retrieve=extend_schema(summary="One document's details", parameters=[DOCUMENT_ID]),
)
class DocumentViewSet(ScopeBeforeMethodMixin, viewsets.ReadOnlyModelViewSet[ReferralDocument]):
    """Referral documents: details here, the file itself from `download`."""

    serializer_class = s.DocumentSerializer
    filterset_class = filters.DocumentFilter
    ordering_fields = ["uploaded_at", "kind"]
    lookup_url_kwarg = "document_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[ReferralDocument]:
        return documents_visible_to(self.request.user)

    def get_object(self) -> ReferralDocument:
        return get_document_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg])

    @extend_schema(
        summary="Download the file",
        parameters=[DOCUMENT_ID],
        # Served as the type its content was recognised as on upload, never as a generic stream.
        responses={
            (200, content_type): OpenApiResponse(OpenApiTypes.BINARY) for content_type in DOCUMENT_CONTENT_TYPES
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        document = self.get_object()
        try:
            return document_download(request, document)
        except FileNotFoundError:
            raise NotFound("The file of this document is missing; ask the site that uploaded it.") from None


# --- Milestones -----------------------------------------------------------------------------


def with_infusion_date(milestones: QuerySet[Milestone]) -> QuerySet[Milestone]:
    """Annotate each milestone with its patient's day 0, for "day +N" without a query per row."""
    return milestones.annotate(infusion_on=day_zero_subquery("referral__patient_id"))


def _render_milestone(request: Request, milestone: Milestone, context: Mapping[str, Any]) -> Any:
    annotated = with_infusion_date(milestones_visible_to(request.user)).get(pk=milestone.pk)
    return s.MilestoneSerializer(annotated, context=context).data


@extend_schema_view(
    list=extend_schema(summary="Milestones of the requesting user's patients"),
    retrieve=extend_schema(summary="One milestone", parameters=[MILESTONE_ID]),
)
class MilestoneViewSet(
    IdempotentWritesMixin, RecordCareActionsMixin, ScopeBeforeMethodMixin, viewsets.ReadOnlyModelViewSet[Milestone]
):
    """The steps of each patient's treatment, with planned and actual dates; either care-team site records them."""

    serializer_class = s.MilestoneSerializer
    filterset_class = filters.MilestoneFilter
    ordering_fields = ["planned_on", "updated_at"]
    lookup_url_kwarg = "milestone_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Milestone]:
        return with_infusion_date(milestones_visible_to(self.request.user))

    recording_actions = frozenset({"complete", "move", "cancel", "confirm", "correct"})

    def get_object(self) -> Milestone:
        milestone = get_milestone_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg])
        return self.gated(milestone, milestone.referral.patient)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_render_milestone(request, self.get_object(), self.get_serializer_context()))

    @extend_schema(
        summary="Mark a planned milestone done",
        parameters=[MILESTONE_ID],
        request=s.MilestoneCompleteSerializer,
        responses=s.MilestoneSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        milestone = self.get_object()
        data = _parse(s.MilestoneCompleteSerializer, request, self.get_serializer_context())
        milestone = milestone_complete(actor=actor_of(request), milestone=milestone, **data)
        return Response(_render_milestone(request, milestone, self.get_serializer_context()))

    @extend_schema(
        summary="Correct the day a done milestone was done (the infusion's, day 0: the center alone)",
        parameters=[MILESTONE_ID],
        request=s.MilestoneCorrectSerializer,
        responses=s.MilestoneSerializer,
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        milestone = self.get_object()
        data = _parse(s.MilestoneCorrectSerializer, request, self.get_serializer_context())
        milestone = milestone_correct_done(actor=actor_of(request), milestone=milestone, **data)
        return Response(_render_milestone(request, milestone, self.get_serializer_context()))

    @extend_schema(
        summary="Move a planned date by hand, with a reason (not the infusion: see the referral's infusion)",
        parameters=[MILESTONE_ID],
        request=s.MilestoneMoveSerializer,
        responses=s.MilestoneSerializer,
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        milestone = self.get_object()
        data = _parse(s.MilestoneMoveSerializer, request, self.get_serializer_context())
        milestone = milestone_move(actor=actor_of(request), milestone=milestone, **data)
        return Response(_render_milestone(request, milestone, self.get_serializer_context()))

    @extend_schema(
        summary="Keep a planned date that conflicts with the course, with a reason",
        parameters=[MILESTONE_ID],
        request=s.MilestoneConfirmSerializer,
        responses=s.MilestoneSerializer,
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        milestone = self.get_object()
        data = _parse(s.MilestoneConfirmSerializer, request, self.get_serializer_context())
        milestone = milestone_confirm_conflict(actor=actor_of(request), milestone=milestone, **data)
        return Response(_render_milestone(request, milestone, self.get_serializer_context()))

    @extend_schema(
        summary="Cancel a milestone, with a reason",
        parameters=[MILESTONE_ID],
        request=s.MilestoneCancelSerializer,
        responses=s.MilestoneSerializer,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        milestone = self.get_object()
        data = _parse(s.MilestoneCancelSerializer, request, self.get_serializer_context())
        milestone = milestone_cancel(actor=actor_of(request), milestone=milestone, **data)
        return Response(_render_milestone(request, milestone, self.get_serializer_context()))


# --- A patient's timeline and comments ------------------------------------------------------


class _PatientScopedView(ScopeBeforeMethodMixin, generics.GenericAPIView[Patient]):
    """A route under one patient; the patient comes through the access path (404 when not visible).

    What it lists comes in pages, as every list of the API (`REST_FRAMEWORK["PAGE_SIZE"]`),
    counted exactly: one patient's record, whoever reads it (the lists of every patient a person
    sees count up to a cap, `carecoord.api.pagination`)."""

    lookup_url_kwarg = "patient_id"
    filter_backends: list[Any] = []
    pagination_class = PageNumberPagination

    def get_queryset(self) -> QuerySet[Patient]:
        # The patients the route may be under (the browsable API asks, for its filter form).
        return patients_visible_to(self.request.user)

    def get_object(self) -> Patient:
        return get_patient_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg])

    def entry_context(self, patient: Patient, infusion_on: dt.date | None) -> dict[str, Any]:
        """What `TimelineEntrySerializer` needs: the viewer's zone and the patient's day 0."""
        return {**self.get_serializer_context(), "zone": _viewer_zone(self.request), "infusion_on": infusion_on}


PAGE = OpenApiParameter(
    "page", int, description="A page number within the paginated result set; `last` is the newest entries."
)


class PatientTimelineView(_PatientScopedView):
    """Everything that happened to one patient, as both sites see it, with the planned course."""

    @extend_schema(
        summary="A patient's shared timeline: a page of its entries, with the milestones and what comes next",
        parameters=[PATIENT_ID, PAGE],
        responses=s.PatientTimelineSerializer,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # One page of entries and the whole planned course, in a fixed number of queries.
        patient = self.get_object()
        shown(patient, what="viewed timeline")
        timeline = patient_timeline(patient)
        entries = self.paginate_queryset(timeline_of(patient))
        context = self.entry_context(patient, timeline.infusion_on)
        today = timezone.localdate(timezone.now(), context["zone"])
        data = {
            # The page's envelope as every list's (count, next, previous, results), then the course.
            **self.get_paginated_response(entries).data,
            "patient": timeline.patient,
            "infusion_on": timeline.infusion_on,
            "referrals": timeline.referrals,
            "milestones": timeline.milestones,
            "upcoming": timeline.upcoming(today),
            "overdue": timeline.overdue(today),
        }
        return Response(s.PatientTimelineSerializer(data, context=context).data)


class PatientCommentsView(IdempotentWritesMixin, _PatientScopedView):
    """Messages between the care-team sites, posted on the patient's shared timeline."""

    # What a POST takes; OPTIONS describes it from here (without it, OPTIONS was a server error).
    serializer_class = s.CommentInputSerializer

    def get_object(self) -> Patient:
        # Checked before the body is read: a role that may not record care gets 403, not a 400.
        capability = Capability.RECORD_CARE if self.request.method == "POST" else Capability.VIEW
        return get_patient_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg], capability)

    @extend_schema(
        summary="The comments on a patient's shared timeline, oldest first",
        parameters=[PATIENT_ID],
        responses=s.TimelineEntrySerializer(many=True),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        shown(patient, what="viewed comments")
        comments = self.paginate_queryset(comments_of(patient))
        context = self.entry_context(patient, day_zero_of(patient))
        return self.get_paginated_response(s.TimelineEntrySerializer(comments, many=True, context=context).data)

    @extend_schema(
        summary="Post a comment on a patient's shared timeline",
        parameters=[PATIENT_ID],
        request=s.CommentInputSerializer,
        responses={201: s.TimelineEntrySerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        data = _parse(s.CommentInputSerializer, request, self.get_serializer_context())
        entry = comment_post(actor=actor_of(request), patient=patient, **data)
        context = self.entry_context(patient, day_zero_of(patient))
        return Response(s.TimelineEntrySerializer(entry, context=context).data, status=status.HTTP_201_CREATED)
