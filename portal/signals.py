"""Extension points the platform offers to feature apps (which import portal, never the reverse)."""

from django.dispatch import Signal

# Sent after days of the working calendar changed (a year imported, a day edited).
# Keyword arguments: years (set[int]). Receivers recompute what depends on the calendar,
# e.g. provisional deadlines; they should enqueue work rather than do it inline.
calendar_changed = Signal()
