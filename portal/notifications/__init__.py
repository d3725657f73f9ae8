"""Notifications: one record per recipient, channel and event; in-app inbox, email and group robots."""
