"""TikTok: Login Kit, Display API, Content Posting API and webhooks (PLATFORMS §1)."""
