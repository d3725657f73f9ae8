"""The intranet front page."""
