"""Toxicity pages, under /toxicity/."""

from django.urls import path

from toxicity import views, web_views

urlpatterns = [
    path("patients/<uuid:patient_id>/record/", web_views.record, name="toxicity-record"),
    path("patients/<uuid:patient_id>/grade-preview/", web_views.grade_preview, name="toxicity-grade-preview"),
    path("events/<int:event_id>/", views.event_detail, name="toxicity-event"),
    path("events/<int:event_id>/assess/", web_views.event_assess, name="toxicity-assess"),
    path("events/<int:event_id>/treatment/", web_views.event_treatment, name="toxicity-treatment"),
    path("events/<int:event_id>/resolve/", web_views.event_resolve, name="toxicity-resolve"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge_view, name="alert-acknowledge"),
]
