"""Referral pages: the list, a new referral, one referral, its draft edited, its moves and its documents."""

from django.urls import path

from referrals import referral_csv, views

urlpatterns = [
    path("", views.referral_list, name="referral-list"),
    path("export.csv", referral_csv.referral_export, name="referral-export"),
    path("new/", views.referral_create_page, name="referral-create"),
    path("<int:referral_id>/", views.referral_detail, name="referral-detail"),
    path("<int:referral_id>/edit/", views.referral_edit_page, name="referral-edit"),
    path("<int:referral_id>/move/", views.referral_move_view, name="referral-move"),
    path("<int:referral_id>/plan/", views.referral_plan, name="referral-plan"),
    path("<int:referral_id>/documents/", views.referral_document_add, name="referral-document-add"),
    path("documents/<int:document_id>/", views.referral_document, name="referral-document"),
]
