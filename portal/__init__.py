"""The shared platform: settings, people and organisation, the working-day calendar, notifications."""
