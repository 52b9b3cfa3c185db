"""Milestone actions from the shared timeline (mounted at /milestones/)."""

from django.urls import URLPattern, path

from workspace import milestones_due
from workspace.timeline import milestone_views as views
from workspace.timeline.milestone_actions import ACTIONS

urlpatterns: list[URLPattern] = [
    path("due/", milestones_due.milestones_due_page, name="milestones-due"),
    path("<int:milestone_id>/complete/", views.milestone_complete_view, name="milestone-complete"),
    path("<int:milestone_id>/move/", views.milestone_move_view, name="milestone-move"),
    path("<int:milestone_id>/cancel/", views.milestone_cancel_view, name="milestone-cancel"),
    path("<int:milestone_id>/confirm/", views.milestone_confirm_view, name="milestone-confirm"),
    path("<int:milestone_id>/correct/", views.milestone_correct_view, name="milestone-correct"),
    # The form of each action, opened from the timeline (htmx) or on its own page.
    *(
        path(f"<int:milestone_id>/{name}/form/", views.milestone_form(name), name=f"milestone-{name}-form")
        for name in ACTIONS
    ),
    path("referrals/<int:referral_id>/infusion/", views.referral_infusion_view, name="referral-infusion"),
    path("referrals/<int:referral_id>/plan/", views.milestone_plan_view, name="milestone-plan"),
    path("referrals/<int:referral_id>/infusion/form/", views.referral_form("infusion"), name="referral-infusion-form"),
    path("referrals/<int:referral_id>/plan/form/", views.referral_form("plan"), name="milestone-plan-form"),
]
