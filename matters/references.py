"""Reference numbers (编号) from a per-source pattern such as ``{prefix}-{year}-{seq:4}``.

Placeholders: ``{prefix}``, ``{year}`` (2026), ``{yy}`` (26), ``{month}`` (01-12), ``{day}``,
and exactly one ``{seq}`` or ``{seq:N}`` (zero-padded to N digits). Everything else is literal.
The sequence runs per *scope*: the pattern rendered with the sequence left out, so a pattern
with ``{year}`` restarts every year and two forms sharing a prefix share one sequence (their
numbers can never collide).
"""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

DEFAULT_PATTERN = "{prefix}-{year}-{seq:4}"
TOKEN = re.compile(r"\{([a-z]+)(?::(\d{1,2}))?\}")
KNOWN = {"prefix", "year", "yy", "month", "day", "seq"}
ALLOWED_LITERAL = re.compile(r"^[A-Za-z0-9\-_/.〔〕\[\]()（）\u4e00-\u9fff]*$")


def validate_pattern(pattern: str) -> None:
    tokens = TOKEN.findall(pattern)
    names = [name for name, _width in tokens]
    unknown = sorted(set(names) - KNOWN)
    if unknown:
        raise ValidationError(_("编号格式中有不认识的占位符：%s。") % "、".join("{%s}" % n for n in unknown))
    if names.count("seq") != 1:
        raise ValidationError(_("编号格式必须包含且只包含一个序号占位符 {seq} 或 {seq:4}。"))
    literal = TOKEN.sub("", pattern)
    if "{" in literal or "}" in literal or not ALLOWED_LITERAL.match(literal):
        raise ValidationError(_("编号格式只能包含字母、数字、汉字、- _ / . 和括号。"))
    if len(render(pattern, prefix="X" * 10, seq=99999, when=timezone.now())) > 40:
        raise ValidationError(_("编号格式太长（最多 40 个字符）。"))


def render(pattern: str, *, prefix: str, seq: int | None, when: datetime) -> str:
    """The reference for ``seq``; with ``seq=None`` the scope (sequence shown as ``#``)."""
    local = timezone.localtime(when) if timezone.is_aware(when) else when

    def sub(match):
        name, width = match.group(1), match.group(2)
        if name == "seq":
            return "#" if seq is None else str(seq).zfill(int(width or 0))
        return {
            "prefix": prefix,
            "year": f"{local.year:04d}",
            "yy": f"{local.year % 100:02d}",
            "month": f"{local.month:02d}",
            "day": f"{local.day:02d}",
        }[name]

    return TOKEN.sub(sub, pattern)


def next_reference(pattern: str, *, prefix: str, when: datetime | None = None) -> str:
    """Issue the next reference in the pattern's scope. Must run inside the transaction that
    stores it: the counter row stays locked until that transaction ends, and a rollback gives
    the number back (gap-free)."""
    from .models import ReferenceCounter

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_reference() must run inside transaction.atomic()")
    when = when or timezone.now()
    scope = render(pattern, prefix=prefix, seq=None, when=when)
    counter = ReferenceCounter.objects.select_for_update().filter(scope=scope).first()
    if counter is None:
        # First number of a scope: create the row without racing (ON CONFLICT DO NOTHING; a
        # parallel creator makes us wait for its commit), then lock it like everyone else.
        ReferenceCounter.objects.bulk_create([ReferenceCounter(scope=scope, last_value=0)], ignore_conflicts=True)
        counter = ReferenceCounter.objects.select_for_update().get(scope=scope)
    counter.last_value += 1
    ReferenceCounter.objects.filter(pk=counter.pk).update(last_value=counter.last_value)
    return render(pattern, prefix=prefix, seq=counter.last_value, when=when)
