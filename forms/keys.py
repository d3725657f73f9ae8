"""Readable, stable field keys: ``协作事项名称`` -> ``xie_zuo_shi_xiang_ming_cheng``."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from pypinyin import lazy_pinyin

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_KEY_LENGTH = 63
# Names the submission and the export use for their own columns.
RESERVED_KEYS = frozenset(
    {"form_token", "submit_time", "reference", "submitter", "department", "status", "urgency_level", "csrfmiddlewaretoken"}
)


def make_key(label: str) -> str:
    """Pinyin for Chinese characters, lower-case ASCII words otherwise, joined by underscores."""
    parts = []
    for chunk in lazy_pinyin(label or "", errors="default"):
        parts.extend(re.findall(r"[a-z0-9]+", chunk.lower()))
    key = "_".join(parts)[:MAX_KEY_LENGTH].strip("_") or "field"
    if not key[0].isalpha():
        key = f"f_{key}"[:MAX_KEY_LENGTH]
    if key in RESERVED_KEYS:
        key = f"{key}_1"
    return key


def validate_key(value: str) -> None:
    if not KEY_RE.match(value or ""):
        raise ValidationError(_("字段键只能用小写字母、数字和下划线，以字母开头，最多 63 个字符，例如 shi_xiang_ming_cheng。"))
    if value in RESERVED_KEYS:
        raise ValidationError(_("“%s”是系统保留的字段键，请换一个。") % value)
