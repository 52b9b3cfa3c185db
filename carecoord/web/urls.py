from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from carecoord.web import account, health
from carecoord.web.forms import LoginForm

urlpatterns = [
    path("health/", health.health, name="health"),
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
