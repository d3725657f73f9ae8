"""Tracked matters (事项): lifecycle, routing rules, working-day deadlines, reminders and ledgers."""
