"""Tiny test videos made with PyAV at test time (no binary media in the repository); the maker
is the demo's, shared with the chaos run."""

from __future__ import annotations

from apps.demo.videos import make_video

__all__ = ["make_video"]
