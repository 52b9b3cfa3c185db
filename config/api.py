from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from candidates import api as candidates_api
from carecoord.api import views
from education import api as education_api
from handoffs import api as handoffs_api
from infections import api as infections_api
from labs import api as labs_api
from referrals import api as referrals_api
from referrals import death_api
from toxicity import api as toxicity_api

router = DefaultRouter()
router.register("sites", views.SiteViewSet, basename="site")
router.register("products", views.ProductViewSet, basename="product")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("care-team-links", views.CareTeamLinkViewSet, basename="care-team-link")
router.register("point-persons", views.PointPersonViewSet, basename="point-person")
router.register("referrals", referrals_api.ReferralViewSet, basename="referral")
router.register("documents", referrals_api.DocumentViewSet, basename="document")
router.register("milestones", referrals_api.MilestoneViewSet, basename="milestone")
router.register("toxicity-events", toxicity_api.ToxicityEventViewSet, basename="toxicity-event")
router.register("alerts", toxicity_api.AlertViewSet, basename="alert")
router.register("infections", infections_api.InfectionViewSet, basename="infection")
router.register("prophylaxis-items", infections_api.ProphylaxisViewSet, basename="prophylaxis-item")
router.register("vaccinations", infections_api.VaccinationViewSet, basename="vaccination")
router.register("handoff-templates", handoffs_api.HandoffTemplateViewSet, basename="handoff-template")
router.register("handoffs", handoffs_api.HandoffViewSet, basename="handoff")
router.register("lab-results", labs_api.LabResultViewSet, basename="lab-result")
router.register("education-materials", education_api.EducationMaterialViewSet, basename="education-material")
router.register("education-given", education_api.EducationGivenViewSet, basename="education-given")
router.register("therapy-lines", candidates_api.TherapyLineViewSet, basename="therapy-line")

app_name = "api"

urlpatterns = [
    path("", include(router.urls)),
    path("patients/<str:patient_id>/timeline/", referrals_api.PatientTimelineView.as_view(), name="patient-timeline"),
    path("patients/<str:patient_id>/comments/", referrals_api.PatientCommentsView.as_view(), name="patient-comments"),
    path(
        "patients/<str:patient_id>/prevention-plan/",
        infections_api.PreventionPlanView.as_view(),
        name="patient-prevention-plan",
    ),
    path(
        "patients/<str:patient_id>/transplant-candidacy/",
        candidates_api.TransplantCandidacyView.as_view(),
        name="patient-transplant-candidacy",
    ),
    path("patients/<str:patient_id>/candidacy/", candidates_api.CandidacyView.as_view(), name="patient-candidacy"),
    path("patients/<str:patient_id>/death/", death_api.DeathView.as_view(), name="patient-death"),
    path(
        "patients/<str:patient_id>/death/withdraw/",
        death_api.DeathWithdrawView.as_view(),
        name="patient-death-withdraw",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the CSP needs no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
]
