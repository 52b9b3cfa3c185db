"""Milestone actions from the shared timeline (mounted at /milestones/)."""

from django.urls import URLPattern, path

from workspace.timeline import milestone_views as views

urlpatterns: list[URLPattern] = [
    path("<int:milestone_id>/complete/", views.milestone_complete_view, name="milestone-complete"),
    path("<int:milestone_id>/move/", views.milestone_move_view, name="milestone-move"),
    path("<int:milestone_id>/cancel/", views.milestone_cancel_view, name="milestone-cancel"),
    path("<int:milestone_id>/confirm/", views.milestone_confirm_view, name="milestone-confirm"),
    path("referrals/<int:referral_id>/infusion/", views.referral_infusion_view, name="referral-infusion"),
    path("referrals/<int:referral_id>/plan/", views.milestone_plan_view, name="milestone-plan"),
]
