"""Hand-off pages, under /handoffs/."""

from django.urls import path

from handoffs import handoff_csv, list_views, views

urlpatterns = [
    path("", list_views.my_handoffs, name="my-handoffs"),
    path("export.csv", handoff_csv.handoff_export, name="handoff-export"),
    path("patients/<uuid:patient_id>/", views.handoff_list, name="handoff-list"),
    path("patients/<uuid:patient_id>/new/", views.handoff_start_page, name="handoff-start"),
    path("<int:handoff_id>/", views.handoff_detail, name="handoff-detail"),
    path("<int:handoff_id>/edit/", views.handoff_edit, name="handoff-edit"),
    path("<int:handoff_id>/preview/", views.handoff_preview_view, name="handoff-preview"),
    path("<int:handoff_id>/rows/", views.handoff_row, name="handoff-row"),
    path("<int:handoff_id>/acknowledge/", views.handoff_acknowledge_view, name="handoff-acknowledge"),
    path("<int:handoff_id>/questions/", views.handoff_question, name="handoff-question"),
    path("<int:handoff_id>/pdf/", views.handoff_pdf, name="handoff-pdf"),
]
