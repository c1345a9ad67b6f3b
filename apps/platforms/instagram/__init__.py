"""Instagram API with Instagram Login (PLATFORMS §2)."""
