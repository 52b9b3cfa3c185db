"""Toxicity pages, under /toxicity/."""

from django.urls import path

from toxicity import views

urlpatterns = [
    path("events/<int:event_id>/", views.event_detail, name="toxicity-event"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge_view, name="alert-acknowledge"),
]
