"""The sandbox, mounted at /_emulator/ by config/urls.py only when EMULATOR_ENABLED.

Address rule (DESIGN §9): each real host maps to one prefix and the path after it is the real
path, so anything written against the real hosts works against the sandbox.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from apps.emulator.control.urls import patterns as control_patterns
from apps.emulator.instagram import urls as instagram
from apps.emulator.tiktok import urls as tiktok

app_name = "emulator"
urlpatterns: list[URLPattern | URLResolver] = [
    path("tiktok/", include((tiktok.www_patterns, "tiktok"))),  # www.tiktok.com
    path("tiktok-api/", include((tiktok.api_patterns, "tiktok_api"))),  # open.tiktokapis.com
    path("tiktok-upload/", include((tiktok.upload_patterns, "tiktok_upload"))),  # upload host
    path("instagram/", include((instagram.www_patterns, "instagram"))),  # www.instagram.com
    path("instagram-api/", include((instagram.api_patterns, "instagram_api"))),  # api.instagram.com
    path(
        "instagram-graph/", include((instagram.graph_patterns, "instagram_graph"))
    ),  # graph.instagram.com
    path("control/", include((control_patterns, "control"))),
]
