"""Helpers for tests and benchmarks: build form pages and post to them."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile

from home.models import HomePage

from .fields import make_token
from .models import FormField, FormIndexPage, FormPage

DEFAULT_FIELDS = [
    {"label": "标题", "field_type": "singleline"},
    {"label": "描述", "field_type": "multiline", "required": False},
    {"label": "紧急程度", "field_type": "urgency"},
    {"label": "期望日期", "field_type": "date", "required": False},
    {"label": "附件", "field_type": "attachments", "required": False, "allowed_file_types": "pdf,png,jpg,txt"},
]


def forms_index() -> FormIndexPage:
    index = FormIndexPage.objects.first()
    if index is None:
        index = FormIndexPage(title="表单", slug="forms")
        HomePage.objects.first().add_child(instance=index)
    return index


def make_form_page(title="测试表单", slug="test-form", prefix="CS", fields=None, **kwargs) -> FormPage:
    page = FormPage(title=title, slug=slug, reference_prefix=prefix, **kwargs)
    page.form_fields = [
        FormField(sort_order=i, **{"required": True, **f}) for i, f in enumerate(fields or DEFAULT_FIELDS)
    ]
    forms_index().add_child(instance=page)
    return FormPage.objects.get(pk=page.pk)


def token_for(page, user) -> str:
    return make_token(page.pk, user.pk)


def png_bytes() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200


def upload(name="a.pdf", content=PDF_BYTES, content_type="application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type)


def big_upload(name="big.pdf", megabytes=11) -> SimpleUploadedFile:
    buf = io.BytesIO(PDF_BYTES + b"0" * (megabytes * 1024 * 1024))
    return SimpleUploadedFile(name, buf.getvalue(), "application/pdf")
