"""Checking uploaded files by their content (filetype), not by the name the browser sends."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

import filetype

DEFAULT_ALLOWED = "pdf,jpg,png,gif,webp,doc,docx,xls,xlsx,ppt,pptx,txt,csv,zip"
DEFAULT_MAX_MB = 10
# Extensions that mean the same detected type.
ALIASES = {"jpeg": "jpg", "tiff": "tif", "htm": "html"}
# Types without a magic number: accepted only when the content is plain text.
TEXT_TYPES = {"txt": "text/plain", "csv": "text/csv"}
HEAD_BYTES = 8192


def parse_types(value: str) -> set[str]:
    """``"pdf, .JPG,jpeg"`` -> ``{"pdf", "jpg"}``."""
    items = (part.strip().lower().lstrip(".") for part in value.replace("，", ",").replace(" ", ",").split(","))
    return {ALIASES.get(item, item) for item in items if item}


@dataclass
class CheckedFile:
    extension: str
    content_type: str


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError:
            # A multi-byte character may be cut at the end of the sample.
            try:
                head[:-3].decode(encoding)
                return True
            except UnicodeDecodeError:
                continue
    return False


def check_upload(upload, *, allowed: set[str], max_bytes: int) -> CheckedFile:
    """Raise ValidationError (Chinese message naming the file) unless the upload is allowed."""
    name = os.path.basename(getattr(upload, "name", "") or "")
    if not name:
        raise ValidationError(_("文件名为空。"))
    if upload.size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": name})
    if upload.size > max_bytes:
        raise ValidationError(
            _("文件“%(name)s”太大（%(size).1f MB），每个文件不能超过 %(max).0f MB。")
            % {"name": name, "size": upload.size / 1024 / 1024, "max": max_bytes / 1024 / 1024}
        )
    ext = ALIASES.get(os.path.splitext(name)[1].lower().lstrip("."), os.path.splitext(name)[1].lower().lstrip("."))
    allowed_text = "、".join(sorted(allowed))
    if ext not in allowed:
        raise ValidationError(
            _("文件“%(name)s”的类型不允许，只能上传：%(types)s。") % {"name": name, "types": allowed_text}
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None:
        if ext in TEXT_TYPES and _looks_like_text(head):
            return CheckedFile(ext, TEXT_TYPES[ext])
        raise ValidationError(
            _("文件“%(name)s”的内容与扩展名不符或无法识别，只能上传：%(types)s。") % {"name": name, "types": allowed_text}
        )
    detected = ALIASES.get(kind.extension, kind.extension)
    # Office files are zip (docx/xlsx/pptx) or OLE containers: a .docx detected as zip is fine.
    compatible = {detected}
    if detected == "zip":
        compatible |= {"docx", "xlsx", "pptx", "odt", "ods", "odp"}
    # ext is allowed (checked above), so matching it is enough.
    if ext not in compatible:
        raise ValidationError(
            _("文件“%(name)s”的实际内容是 %(real)s，与扩展名不符或不允许上传。") % {"name": name, "real": detected}
        )
    return CheckedFile(ext, kind.mime if detected == ext else _guess_mime(ext, kind.mime))


def _guess_mime(ext: str, fallback: str) -> str:
    for t in filetype.types:
        if t.extension == ext:
            return t.mime
    return fallback
