"""The hand-off template editor, under /handoff-templates/."""

from django.urls import path

from handoffs.template_editor import views as template_views

urlpatterns = [
    path("", template_views.template_list, name="handoff-template-list"),
    path("new/", template_views.template_create_view, name="handoff-template-create"),
    path("<int:template_id>/edit/", template_views.template_edit, name="handoff-template-edit"),
    path("<int:template_id>/preview/", template_views.template_preview, name="handoff-template-preview"),
    path("versions/<int:version_id>/", template_views.template_version, name="handoff-template-version"),
    path("versions/<int:version_id>/publish/", template_views.template_publish_view, name="handoff-template-publish"),
]
