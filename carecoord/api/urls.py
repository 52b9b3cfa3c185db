from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from carecoord.api import views

router = DefaultRouter()
router.register("sites", views.SiteViewSet, basename="site")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("care-team-links", views.CareTeamLinkViewSet, basename="care-team-link")
router.register("point-persons", views.PointPersonViewSet, basename="point-person")

app_name = "api"

urlpatterns = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
