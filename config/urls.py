from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path

from apps.common import views as common_views
from apps.ops import views as ops_views

# Django's admin is for superusers only (DESIGN §11); everyone else uses the console.
admin.site.has_permission = lambda request: bool(  # type: ignore[method-assign]
    request.user.is_active and request.user.is_superuser
)

# allauth answers a hit sign-in limit with `<ROOT_URLCONF>.handler429` (Django itself has none).
handler429 = "apps.staff.views.rate_limited"

urlpatterns = [
    path("", include("apps.dashboard.urls")),
    path("healthz", common_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics_endpoint, name="metrics"),
    path("ops/", include("apps.ops.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("apps.staff.urls")),
    path("clients/", include("apps.clients.urls")),
    path("audit/", include("apps.audit.urls")),
    path("", include("apps.connections.urls")),
    path("", include("apps.publishing.urls")),
    path("admin/", admin.site.urls),
]

if settings.EMULATOR_ENABLED:
    # DESIGN §9: never mounted in production by accident.
    if not (settings.DEBUG or settings.EMULATOR_FORCE):
        raise ImproperlyConfigured(
            "EMULATOR_ENABLED is set while DEBUG is off. The sandbox must not run in production; "
            "set EMULATOR_FORCE=1 if you really mean to mount it."
        )
    urlpatterns.append(path("_emulator/", include("apps.emulator.urls")))
