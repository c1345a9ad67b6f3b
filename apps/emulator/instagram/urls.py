"""Instagram hosts → sandbox prefixes. graph.instagram.com accepts an optional `vNN.0/`, except
on `access_token` and `refresh_access_token`, which exist only unversioned (PLATFORMS §2.1)."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from apps.emulator.instagram import graph, oauth
from apps.emulator.tiktok import api as tiktok_api

V = r"^(?:v\d+\.\d+/)?"
NODE = r"(?P<node>me|\d+)"

# www.instagram.com → /_emulator/instagram/
www_patterns: list[URLPattern] = [
    re_path(r"^oauth/authorize/?$", oauth.authorize, name="authorize"),
    path("reel/<str:shortcode>/", graph.reel, name="reel"),
    path("avatar/<str:open_id>.svg", tiktok_api.avatar, name="avatar"),
]

# api.instagram.com → /_emulator/instagram-api/
api_patterns: list[URLPattern] = [
    re_path(r"^oauth/access_token/?$", oauth.code_exchange, name="access_token"),
]

# graph.instagram.com → /_emulator/instagram-graph/
graph_patterns: list[URLPattern] = [
    re_path(r"^access_token/?$", oauth.exchange, name="exchange"),
    re_path(r"^refresh_access_token/?$", oauth.refresh, name="refresh"),
    re_path(
        r"^v\d+\.\d+/(?P<node>access_token|refresh_access_token)/?$",
        oauth.versioned_token_path,
        name="versioned_token_path",
    ),
    re_path(V + r"me/?$", graph.me, name="me"),
    re_path(V + NODE + r"/media/?$", graph.user_media, name="media"),
    re_path(V + NODE + r"/media_publish/?$", graph.media_publish, name="media_publish"),
    re_path(
        V + NODE + r"/content_publishing_limit/?$",
        graph.publishing_limit,
        name="content_publishing_limit",
    ),
    re_path(V + NODE + r"/permissions/?$", graph.permissions, name="permissions"),
    re_path(V + r"(?P<node_id>\d+)/?$", graph.node, name="node"),
]
