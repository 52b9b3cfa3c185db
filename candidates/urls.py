"""Treatment history and candidate pages, under /candidates/."""

from django.urls import path

from candidates import views

urlpatterns = [
    path("patients/<uuid:patient_id>/history/", views.treatment_history, name="candidates-history"),
    path(
        "patients/<uuid:patient_id>/transplant-candidacy/",
        views.transplant_candidacy,
        name="candidates-transplant-candidacy",
    ),
    path("lines/<int:line_id>/edit/", views.therapy_line_edit, name="candidates-line-edit"),
]
