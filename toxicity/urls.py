"""Toxicity pages, under /toxicity/."""

from django.urls import path

from toxicity import alert_csv, alert_views, event_views

urlpatterns = [
    path("patients/<uuid:patient_id>/record/", event_views.record, name="toxicity-record"),
    path("patients/<uuid:patient_id>/grade-preview/", event_views.grade_preview, name="toxicity-grade-preview"),
    path("events/<int:event_id>/", event_views.event_detail, name="toxicity-event"),
    path("events/<int:event_id>/assess/", event_views.event_assess, name="toxicity-assess"),
    path("events/<int:event_id>/treatment/", event_views.event_treatment, name="toxicity-treatment"),
    path("events/<int:event_id>/resolve/", event_views.event_resolve, name="toxicity-resolve"),
    path(
        "events/<int:event_id>/manufacturer-report/",
        event_views.event_manufacturer_report,
        name="toxicity-manufacturer-report",
    ),
    path("alerts/", alert_views.alert_list, name="alert-list"),
    path("alerts/export.csv", alert_csv.alert_export, name="alert-export"),
    path("alerts/<int:alert_id>/acknowledge/", alert_views.alert_acknowledge_view, name="alert-acknowledge"),
]
