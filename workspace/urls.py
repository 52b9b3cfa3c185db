from django.urls import path

from workspace import deaths, milestones_due_csv, patient_csv, patients, views, work_queue_page
from workspace.digests import views as digest_views
from workspace.timeline import history as timeline_history
from workspace.timeline import milestone_table
from workspace.timeline import page as timeline

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("work/", work_queue_page.my_work, name="my-work"),
    path("patients/export.csv", patient_csv.patient_export, name="patient-export"),
    # With the milestones-due page (/milestones/due/), whose routes are the timeline's.
    path("milestones/due/export.csv", milestones_due_csv.milestones_due_export, name="milestones-due-export"),
    path("digest/", digest_views.my_digest, name="my-digest"),
    path("patients/<uuid:patient_id>/", patients.patient_detail, name="patient-detail"),
    path("patients/<uuid:patient_id>/contacts/", patients.patient_contacts, name="patient-contacts"),
    path("patients/<uuid:patient_id>/edit/", patients.patient_edit, name="patient-edit"),
    path("patients/<uuid:patient_id>/identifier/", patients.patient_identifier, name="patient-identifier"),
    path("patients/<uuid:patient_id>/point-persons/", patients.patient_point_persons, name="patient-point-persons"),
    path("patients/<uuid:patient_id>/care-team/", patients.patient_share, name="patient-share"),
    path("patients/<uuid:patient_id>/care-team/leave/", patients.patient_leave, name="patient-leave"),
    path("patients/<uuid:patient_id>/death/", deaths.patient_death, name="patient-death"),
    path("patients/<uuid:patient_id>/death/withdraw/", deaths.patient_death_withdraw, name="patient-death-withdraw"),
    path("patients/<uuid:patient_id>/timeline/", timeline.patient_timeline_page, name="patient-timeline"),
    path(
        "patients/<uuid:patient_id>/timeline/earlier/",
        timeline_history.patient_timeline_earlier,
        name="patient-timeline-earlier",
    ),
    path(
        "patients/<uuid:patient_id>/timeline/milestones/",
        milestone_table.patient_timeline_milestones,
        name="patient-timeline-milestones",
    ),
    path("patients/<uuid:patient_id>/comments/", timeline.patient_comment, name="patient-comment"),
]
