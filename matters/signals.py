"""Signals other apps connect to. They carry facts; no domain logic runs in receivers here.

``matter_opened(sender=Matter, matter=<Matter>, source=<str>)`` is sent once a new matter has
been committed (``transaction.on_commit``), so receivers see it in the database and may start
their own transactions (routing assigns departments and deadlines on it).

``matter_status_changed(sender=Matter, matter=<Matter>, event=<MatterEvent>, old_status=<str>,
new_status=<str>, actor=<User|None>)`` is sent on commit after every status change.
"""

from django.dispatch import Signal

matter_opened = Signal()
matter_status_changed = Signal()
