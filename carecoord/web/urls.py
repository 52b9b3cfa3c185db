from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from carecoord.web import account, digest, health, patient, timeline, views
from carecoord.web.forms import LoginForm

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health/", health.health, name="health"),
    path("digest/", digest.my_digest, name="my-digest"),
    path("patients/<uuid:patient_id>/", patient.patient_detail, name="patient-detail"),
    path("patients/<uuid:patient_id>/edit/", patient.patient_edit, name="patient-edit"),
    path("patients/<uuid:patient_id>/identifier/", patient.patient_identifier, name="patient-identifier"),
    path("patients/<uuid:patient_id>/point-persons/", patient.patient_point_persons, name="patient-point-persons"),
    path("patients/<uuid:patient_id>/care-team/", patient.patient_share, name="patient-share"),
    path("patients/<uuid:patient_id>/care-team/leave/", patient.patient_leave, name="patient-leave"),
    path("patients/<uuid:patient_id>/timeline/", timeline.patient_timeline_page, name="patient-timeline"),
    path("patients/<uuid:patient_id>/comments/", timeline.patient_comment, name="patient-comment"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", account.two_factor_verify, name="two-factor-verify"),
    path("two-factor/setup/", account.two_factor_setup, name="two-factor-setup"),
    path("account/", account.account_security, name="account-security"),
    path("account/recovery-codes/", account.recovery_codes, name="recovery-codes"),
    path("account/tokens/<int:token_id>/revoke/", account.api_token_revoke_view, name="api-token-revoke"),
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("account-security")),
        name="password-change",
    ),
]
