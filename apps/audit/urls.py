from __future__ import annotations

from django.urls import path

from apps.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_list, name="list"),
    path("export.csv", views.export_csv, name="export"),
    path("<int:pk>/", views.event_detail, name="event"),
    path("clients/<slug:slug>/", views.client_timeline, name="client"),
    path("clients/<slug:slug>/report/<int:year>-<int:month>/", views.client_report, name="report"),
    path("accounts/<int:pk>/", views.account_timeline, name="account"),
    path("verify/", views.verification_start, name="verify"),
    path("verify/<int:pk>/", views.verification_detail, name="verification"),
]
