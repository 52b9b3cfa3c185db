from django.contrib.auth import views as auth_views
from django.urls import path

from carecoord.web import digest, timeline, views
from carecoord.web.forms import LoginForm

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("digest/", digest.my_digest, name="my-digest"),
    path("patients/<uuid:patient_id>/", views.patient_detail, name="patient-detail"),
    path("patients/<uuid:patient_id>/timeline/", timeline.patient_timeline_page, name="patient-timeline"),
    path("patients/<uuid:patient_id>/comments/", timeline.patient_comment, name="patient-comment"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
