"""Letter PDFs need no system font: the portal ships its CJK faces (letters/fonts.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from letters import fonts

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import django
django.setup()
from letters.pdf import missing_characters, pdf_text, render_pdf
from letters.fonts import SERIF, SANS
html = (
    '<html><body style="font-family: \"%s\", serif"><p>关于配合开展消防设施联合检查的函</p>'
    '<p style="font-family: \"%s\"">工程部：请于2026年11月25日前复函。</p></body></html>' % (SERIF, SANS)
)
pdf, pages, notdef = render_pdf(html, variant="pdf/a-3u")
text = pdf_text(pdf)
source = "关于配合开展消防设施联合检查的函工程部：请于2026年11月25日前复函。"
print("PAGES", pages, "NOTDEF", "".join(sorted(notdef)) or "-", "MISSING", "".join(missing_characters(source, text)) or "-")
"""


def test_shipped_faces_exist_and_are_fonts():
    faces = fonts.bundled_faces()
    assert [f["family"] for f in faces] == [fonts.SERIF, fonts.SANS]
    for face in faces:
        head = Path(face["url"].removeprefix("file://")).read_bytes()[:4]
        assert head in (b"OTTO", b"\x00\x01\x00\x00")


def test_a_letter_renders_with_no_system_font_at_all(tmp_path):
    """fontconfig pointed at an empty configuration knows no font: the shipped faces alone must draw
    every character, and the render must not crash (Pango used to segfault without any font)."""
    config = tmp_path / "fonts.conf"
    config.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig></fontconfig>')
    env = {
        **os.environ,
        "FONTCONFIG_FILE": str(config),
        "FONTCONFIG_PATH": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
    }
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list"], env=env, capture_output=True, text=True)  # noqa: S607
        assert listed.stdout.strip() == ""  # the configuration really is empty
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "PAGES 1 NOTDEF - MISSING -" in result.stdout, result.stdout + result.stderr[-2000:]
