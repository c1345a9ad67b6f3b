"""A platform's public pages: the profile a person checks for a post, and which pasted links are
one of the platform's posts (the post page's "It is there" answer)."""

from __future__ import annotations

import pytest

from apps.platforms import links


@pytest.fixture
def real_hosts(settings):
    settings.PLATFORM_BASE_URLS = {
        **settings.PLATFORM_BASE_URLS,
        "tiktok_auth": "https://www.tiktok.com",
        "instagram_auth": "https://www.instagram.com",
    }


def test_profiles_are_on_the_configured_www_host(settings):
    assert links.profile_url("tiktok", "northwind.coffee") == (
        "https://auth.tiktok.test/@northwind.coffee"
    )
    assert links.profile_url("instagram", "northwind_coffee") == (
        "https://auth.instagram.test/northwind_coffee/"
    )


def test_a_profile_link_escapes_what_a_handle_cannot_hold(real_hosts):
    assert links.profile_url("tiktok", "@a b/../x") == "https://www.tiktok.com/@a%20b%2F..%2Fx"
    assert links.profile_url("instagram", "") == ""
    assert links.profile_url("myspace", "someone") == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://www.tiktok.com/@northwind.coffee/video/7234567890123456789",
        "https://www.tiktok.com/@northwind_coffee/video/7234567890123456789/",
        "https://www.tiktok.com/@northwind/video/7234567890123456789?is_from_webapp=1&sender=x",
        "https://tiktok.com/@northwind/video/7234567890123456789",
        "https://m.tiktok.com/@northwind/video/7234567890123456789",
        "https://vm.tiktok.com/ZMabc123/",
        "https://www.tiktok.com/t/ZTRabc123/",
    ],
)
def test_tiktok_video_links_are_accepted(real_hosts, url):
    assert links.is_post_url("tiktok", url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.tiktok.com/@northwind",  # the profile, not a video
        "http://www.tiktok.com/@northwind/video/7234567890123456789",  # not https
        "https://www.tiktok.com.evil.example/@northwind/video/7234567890123456789",
        "https://user@www.tiktok.com/@northwind/video/7234567890123456789",
        "https://www.tiktok.com/@northwind/video/abc",
        "https://www.instagram.com/reel/C1a2b3c4d5e/",
        "javascript:alert(1)",
        "www.tiktok.com/@northwind/video/7234567890123456789",
        "",
    ],
)
def test_other_links_are_not_tiktok_videos(real_hosts, url):
    assert not links.is_post_url("tiktok", url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.instagram.com/reel/C1a2b3c4d5e/",
        "https://www.instagram.com/reel/C1a2b3c4d5e/?igsh=abc",
        "https://instagram.com/reels/C1a2b3c4d5e",
        "https://www.instagram.com/p/C1a2b3c4d5e/",
    ],
)
def test_instagram_post_links_are_accepted(real_hosts, url):
    assert links.is_post_url("instagram", url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.instagram.com/northwind_coffee/",  # the profile
        "https://www.instagram.com/stories/northwind/123/",
        "https://instagram.com.example/reel/C1a2b3c4d5e/",
        "http://www.instagram.com/reel/C1a2b3c4d5e/",
        "https://www.tiktok.com/@northwind/video/7234567890123456789",
    ],
)
def test_other_links_are_not_instagram_posts(real_hosts, url):
    assert not links.is_post_url("instagram", url)


def test_the_sandbox_hosts_posts_are_accepted_where_it_stands_in(settings):
    settings.PLATFORM_BASE_URLS = {
        **settings.PLATFORM_BASE_URLS,
        "tiktok_auth": "http://localhost:8000/_emulator/tiktok",
        "instagram_auth": "http://localhost:8000/_emulator/instagram",
    }
    assert links.is_post_url("tiktok", "http://localhost:8000/_emulator/tiktok/@sbx/video/7001")
    assert links.is_post_url("instagram", "http://localhost:8000/_emulator/instagram/reel/Abc123/")
    # Not any page of the host: only the platform's post shapes under its prefix.
    assert not links.is_post_url("tiktok", "http://localhost:8000/_emulator/control/")
    assert not links.is_post_url("tiktok", "http://localhost:8000/@sbx/video/7001")
    # The real hosts stay accepted too.
    assert links.is_post_url("tiktok", "https://www.tiktok.com/@sbx/video/7001")
