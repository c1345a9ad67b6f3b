"""TikTok hosts → sandbox prefixes (the path after the prefix is the real path)."""

from __future__ import annotations

from django.urls import URLPattern, path

from apps.emulator.tiktok import api, oauth, posting, upload

# www.tiktok.com → /_emulator/tiktok/
www_patterns: list[URLPattern] = [
    path("v2/auth/authorize/", oauth.authorize, name="authorize"),
    path("avatar/<str:open_id>.svg", api.avatar, name="avatar"),
    path("@<str:username>", api.profile, name="profile"),
    path("@<str:username>/video/<str:post_id>", api.post, name="post"),
]

# open.tiktokapis.com → /_emulator/tiktok-api/
api_patterns: list[URLPattern] = [
    path("v2/oauth/token/", oauth.token, name="token"),
    path("v2/oauth/revoke/", oauth.revoke, name="revoke"),
    path("v2/user/info/", api.user_info, name="user_info"),
    path("v2/video/list/", api.video_list, name="video_list"),
    path("v2/post/publish/creator_info/query/", posting.creator_info, name="creator_info"),
    path("v2/post/publish/video/init/", posting.video_init, name="video_init"),
    path("v2/post/publish/inbox/video/init/", posting.inbox_init, name="inbox_init"),
    path("v2/post/publish/status/fetch/", posting.status_fetch, name="status_fetch"),
    path("v2/post/publish/cancel/", posting.cancel, name="cancel"),
]

# open-upload.tiktokapis.com → /_emulator/tiktok-upload/
upload_patterns: list[URLPattern] = [
    path("video/", upload.upload_video, name="video"),
]
