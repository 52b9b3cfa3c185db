"""Calendar feeds and downloads, under /calendar/."""

from django.urls import path

from calendars import views

urlpatterns = [
    path("feeds/<slug:feed_key>.ics", views.calendar_feed, name="calendar-feed"),
    path("feeds/new/", views.feed_create_view, name="calendar-feed-create"),
    path("feeds/<int:feed_id>/revoke/", views.feed_revoke_view, name="calendar-feed-revoke"),
    path("patients/<uuid:patient_id>/milestones.ics", views.patient_calendar, name="patient-calendar"),
]
