"""The app's URLs plus one bare view, for the page benchmark only (never in config.urls).

The bare view goes through every middleware a page does (session, user, second factor,
audit) and then runs one indexed query: the floor each page's time is compared with.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from carecoord.models import TimelineEntry
from config.urls import handler403 as handler403
from config.urls import handler404 as handler404
from config.urls import urlpatterns as app_urlpatterns

BARE = "/bench/bare/"


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    title = TimelineEntry.objects.filter(pk=1).values_list("title", flat=True).first()  # the primary key's index
    return HttpResponse(title or "", content_type="text/plain")


urlpatterns = [path(BARE.strip("/") + "/", bare, name="bench-bare"), *app_urlpatterns]
