"""Lab pages, under /labs/."""

from django.urls import path

from labs import views

urlpatterns = [
    path("patients/<uuid:patient_id>/results/", views.lab_entry, name="lab-entry"),
    path("notices/<int:notice_id>/acknowledge/", views.lab_flag_acknowledge_view, name="lab-flag-acknowledge"),
]
