from __future__ import annotations

from django.urls import path

from apps.publishing.views import calendar, composer, media, posts

app_name = "publishing"
urlpatterns = [
    # Media (views/media.py)
    path("clients/<slug:slug>/media/", media.library, name="media_library"),
    path("clients/<slug:slug>/media/upload/", media.upload, name="media_upload"),
    path("media/<int:pk>/", media.detail, name="media_detail"),
    path("media/<int:pk>/poster.jpg", media.poster, name="media_poster"),
    path("media/<int:pk>/preview", media.preview, name="media_preview"),
    # The signed, expiring URL a platform fetches (Instagram's video_url); the token is the key.
    path("m/<str:token>", media.public_file, name="media_public"),
    # Composer (views/composer.py)
    path("clients/<slug:slug>/posts/new/", composer.compose, name="compose"),
    path("posts/<int:pk>/edit/", composer.edit, name="edit"),
    path("posts/<int:pk>/preflight/", composer.preflight, name="preflight"),
    path("posts/<int:pk>/cancel/", composer.cancel, name="cancel"),
    path("posts/<int:pk>/reschedule/", composer.reschedule, name="reschedule"),
    path("clients/<slug:slug>/posts/preflight/", composer.preflight_new, name="preflight_new"),
    # Calendar and post pages (views/calendar.py, views/posts.py)
    path("calendar/", calendar.calendar, name="calendar"),
    path("clients/<slug:slug>/calendar/", calendar.client_calendar, name="client_calendar"),
    path("posts/<int:pk>/", posts.detail, name="post"),
    path("posts/<int:pk>/targets/", posts.targets, name="post_targets"),
    # A person's way out of a failed or unconfirmed account of a post (views/posts.py).
    path("targets/<int:pk>/retry/", posts.retry, name="target_retry"),
    path("targets/<int:pk>/confirm/", posts.confirm, name="target_confirm"),
]
