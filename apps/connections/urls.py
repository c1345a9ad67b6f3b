from __future__ import annotations

from django.urls import path

from apps.connections import views, webhook_views

app_name = "connections"
urlpatterns = [
    path("clients/<slug:slug>/connect/<str:platform>/", views.connect_start, name="connect"),
    path("clients/<slug:slug>/connect-links/", views.link_create, name="link_create"),
    path("connect-links/<int:pk>/revoke/", views.link_revoke, name="link_revoke"),
    path("connect/<str:signed>/", views.link_landing, name="link_landing"),
    path("connect/result/<str:key>/", views.link_result, name="link_result"),
    path(
        "oauth/callback/tt/", views.oauth_callback, {"platform": "tiktok"}, name="callback_tiktok"
    ),
    path(
        "oauth/callback/ig/",
        views.oauth_callback,
        {"platform": "instagram"},
        name="callback_instagram",
    ),
    path("connections/mismatch/<int:request_id>/", views.mismatch, name="mismatch"),
    path("connections/oauth-result/<str:key>/", views.oauth_result, name="oauth_result"),
    path("connections/health/", views.health_fragment, name="health"),
    path("connections/<int:pk>/", views.account_detail, name="account"),
    path("connections/<int:pk>/check/", views.account_check_now, name="check"),
    path("connections/<int:pk>/refresh/", views.account_refresh_now, name="refresh"),
    path("connections/<int:pk>/reconnect/", views.reconnect_start, name="reconnect"),
    path("connections/<int:pk>/disconnect/", views.account_disconnect, name="disconnect"),
    # One generic view; each provider declares the kinds it receives (`webhook_kinds`).
    path(
        "webhooks/tt/",
        webhook_views.webhook,
        {"platform": "tiktok", "kind": "events"},
        name="webhook_tiktok",
    ),
    path(
        "webhooks/ig/deauthorize/",
        webhook_views.webhook,
        {"platform": "instagram", "kind": "deauthorize"},
        name="webhook_ig_deauthorize",
    ),
    path(
        "webhooks/ig/data-deletion/",
        webhook_views.webhook,
        {"platform": "instagram", "kind": "data-deletion"},
        name="webhook_ig_data_deletion",
    ),
    path(
        "webhooks/ig/data-deletion/status/<str:code>/",
        webhook_views.data_deletion_status,
        name="data_deletion_status",
    ),
]
