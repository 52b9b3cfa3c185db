"""Calendar feeds and downloads, under /calendar/."""

from django.urls import path, register_converter

from calendars import views
from calendars.models import FEED_KEY_PREFIX


class FeedKeyConverter:
    """A feed's key: random characters after its prefix, never anything about a patient."""

    regex = FEED_KEY_PREFIX + "[A-Za-z0-9_-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FeedKeyConverter, "feed_key")

urlpatterns = [
    path("feeds/<feed_key:feed_key>.ics", views.calendar_feed, name="calendar-feed"),
    path("feeds/new/", views.feed_create_view, name="calendar-feed-create"),
    path("feeds/<int:feed_id>/revoke/", views.feed_revoke_view, name="calendar-feed-revoke"),
    path("patients/<uuid:patient_id>/milestones.ics", views.patient_calendar, name="patient-calendar"),
]
