from django.urls import path

from metrics import views

urlpatterns = [
    path("", views.metrics_page, name="metrics"),
    path("export.csv", views.metrics_export, name="metrics-export"),
    path("report.pdf", views.metrics_report, name="metrics-report"),
]
