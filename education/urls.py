"""Education pages, under /education/."""

from django.urls import path

from education import views

urlpatterns = [
    path("materials/", views.material_list, name="education-material-list"),
    path("materials/new/", views.material_create_view, name="education-material-create"),
    path("materials/<int:material_id>/edit/", views.material_edit, name="education-material-edit"),
    path("materials/versions/<int:material_version_id>/", views.material_version, name="education-material-version"),
    path("patients/<uuid:patient_id>/", views.patient_education, name="education-patient"),
    path("patients/<uuid:patient_id>/wallet-card.pdf", views.wallet_card, name="education-wallet-card"),
]
