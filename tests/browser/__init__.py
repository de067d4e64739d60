"""Browser tests: Home Assistant's real frontend, driven with Chromium."""
