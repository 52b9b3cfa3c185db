from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # One way in, with throttling and the second factor: the admin signs in through it too.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True), name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api")),
    path("referrals/", include("referrals.urls")),
    path("milestones/", include("workspace.timeline.milestone_urls")),
    path("toxicity/", include("toxicity.urls")),
    path("infections/", include("infections.urls")),
    path("handoffs/", include("handoffs.urls")),
    path("labs/", include("labs.urls")),
    path("handoff-templates/", include("handoffs.template_editor.urls")),
    path("education/", include("education.urls")),
    path("candidates/", include("candidates.urls")),
    path("audit/", include("audit.urls")),
    path("metrics/", include("metrics.urls")),
    path("calendar/", include("calendars.urls")),
    path("fhir/", include("fhir_api.urls")),
    path("", include("carecoord.web.urls")),
    path("", include("workspace.urls")),
]

handler404 = "fhir_api.errors.not_found"
handler403 = "carecoord.web.errors.permission_denied"
