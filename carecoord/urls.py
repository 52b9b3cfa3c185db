from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("carecoord.api.urls")),
    path("referrals/", include("referrals.urls")),
    path("milestones/", include("referrals.milestone_urls")),
    path("toxicity/", include("toxicity.urls")),
    path("handoffs/", include("handoffs.urls")),
    path("handoff-templates/", include("handoffs.template_urls")),
    path("", include("carecoord.web.urls")),
]
