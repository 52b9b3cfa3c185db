"""Infection pages, under /infections/."""

from django.urls import path

from infections import views

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.patient_infections, name="infections-patient"),
    path("patients/<uuid:patient_id>/record/", views.record, name="infection-record"),
    path("patients/<uuid:patient_id>/plan/", views.plan, name="prevention-plan"),
    path("patients/<uuid:patient_id>/prophylaxis/", views.prophylaxis_new, name="prophylaxis-add"),
    path("patients/<uuid:patient_id>/vaccinations/", views.vaccination_new, name="vaccination-add"),
    path("<int:infection_id>/resolve/", views.resolve, name="infection-resolve"),
    path("prophylaxis/<int:prophylaxis_id>/stop/", views.stop, name="prophylaxis-stop"),
    path("prophylaxis/<int:prophylaxis_id>/review/", views.review, name="prophylaxis-review"),
    path("vaccinations/<int:vaccination_id>/given/", views.given, name="vaccination-given"),
]
