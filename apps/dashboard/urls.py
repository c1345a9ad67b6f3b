from __future__ import annotations

from django.urls import path

from apps.dashboard import views

# No app_name: templates and LOGIN_REDIRECT_URL name the home page plain "dashboard".
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
