"""The audit page, under /audit/: read and export only."""

from django.urls import path

from audit import views

urlpatterns = [
    path("", views.audit_entries, name="audit-entries"),
    path("export/", views.audit_export, name="audit-export"),
    path("find-patient/", views.audit_find_patient, name="audit-find-patient"),
]
