"""The HTTP API for asks from outside chat (`/api/v1`), served beside Slack's events or alone."""
