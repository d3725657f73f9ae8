"""Rendering a letter as a GB/T 9704 信函格式 PDF with WeasyPrint, and checking its text.

The layout (A4, 37/26/35/28 mm margins, 22 lines x 28 characters, red double rules, number
flush right, page numbers from page two, 抄送 at the foot of the last page) lives in
templates/letters/pdf/letter.html. Fonts: administrators' uploaded fonts come first in each
role's stack, then the usual Windows names, then the Noto CJK faces shipped with the portal
(letters/fonts.py), so no system font is needed. The text check reads the PDF back with
pypdf (pure Python), so no poppler either.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from . import fonts as bundled
from .models import LetterFont, LetterPage
from .models.records import FontRole

FALLBACK_STACKS = {
    FontRole.BODY: ["FangSong", "仿宋_GB2312", "仿宋", "STFangsong", "Noto Serif CJK SC", bundled.SERIF, "serif"],
    FontRole.TITLE: ["FZXiaoBiaoSong-B05S", "方正小标宋简体", "Noto Serif CJK SC", bundled.SERIF, "serif"],
    FontRole.HEADING: ["SimHei", "黑体", "Noto Sans CJK SC", bundled.SANS, "sans-serif"],
    FontRole.KAI: [
        "KaiTi", "楷体_GB2312", "楷体", "AR PL UKai CN", "LXGW WenKai", "Noto Serif CJK SC", bundled.SERIF, "serif",
    ],
}
PAGE_NUMBER_STACK = ["SimSun", "宋体", "Noto Serif CJK SC", bundled.SERIF, "serif"]


class MissingGlyphs(Exception):
    """Characters of the letter that no font could draw (they would print as boxes)."""

    def __init__(self, chars: list[str]):
        self.chars = chars
        listed = "、".join(f"“{c}”(U+{ord(c):04X})" for c in chars)
        super().__init__(_("字体缺少以下字符，PDF 中会显示为方框：%(chars)s。请上传包含这些字的字体后重新归档。") % {"chars": listed})


@dataclass
class RenderedLetter:
    pdf: bytes
    html: str
    pages: int
    embedded_files: int
    variant: str
    notdef: set[str] = field(default_factory=set)


def _quote(name: str) -> str:
    return '"%s"' % name.replace('"', "")


def font_faces() -> tuple[list[dict], dict[str, str]]:
    """@font-face rules for uploaded fonts and the CSS font-family stack of each role."""
    faces, stacks = [], {}
    uploaded: dict[str, list[str]] = {}
    for font in LetterFont.objects.filter(active=True).order_by("role", "priority", "pk"):
        try:
            path = Path(font.file.path)
        except (NotImplementedError, ValueError):
            continue
        if not path.exists():
            continue
        faces.append({"family": font.family, "url": path.as_uri()})
        uploaded.setdefault(font.role, []).append(font.family)
    for role, fallback in FALLBACK_STACKS.items():
        names = [*uploaded.get(role, []), *fallback[:-1]]
        stacks[str(role)] = ", ".join(_quote(n) for n in names) + ", " + fallback[-1]
    stacks["page"] = ", ".join(_quote(n) for n in PAGE_NUMBER_STACK[:-1]) + ", serif"
    return faces, stacks


_LEVEL = re.compile(r"^(（[一二三四五六七八九十]+）|[0-9]+[.．]|（[0-9]+）)")


def body_paragraphs(text: str) -> list[dict]:
    """Paragraphs with their GB/T 9704 level: 一、 is the section, （一） second, 1. third, （1） fourth."""
    out = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        level = 0
        m = _LEVEL.match(line)
        if m:
            token = m.group(1)
            level = 2 if token.startswith("（") and not token[1].isdigit() else (3 if token[0].isdigit() else 4)
            # "1. 请……" -> "1.请……": a space would be stretched by justification.
            line = token + line[m.end():].lstrip()
        out.append({"text": line, "level": level})
    return out


_CN_NUMERALS = "一二三四五六七八九十"


def letter_sections(letter: LetterPage) -> list[dict]:
    sections = []
    for label, name in ((_("相关背景"), "background"), (_("要求和建议"), "requests")):
        paras = body_paragraphs(getattr(letter, name))
        if paras:
            sections.append({"heading": f"{_CN_NUMERALS[len(sections)]}、{label}", "paragraphs": paras})
    return sections


def chinese_date(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def company_name(letter: LetterPage) -> str:
    dept = letter.issuing_department
    parent = dept.parent
    if parent is not None and parent.kind == "company":
        return f"{parent.name}{dept.name}"
    return dept.name


def letter_html(letter: LetterPage) -> str:
    faces, stacks = font_faces()
    attachments = list(letter.attachments.all())
    context = {
        "letter": letter,
        "issuer_name": company_name(letter),
        "faces": faces,
        "fonts": stacks,
        "subject_paragraphs": body_paragraphs(letter.subject),
        "sections": letter_sections(letter),
        "free_paragraphs": body_paragraphs(letter.body),
        "attachments": attachments,
        "to_names": "、".join(d.name for d in letter.to_departments.all()),
        "cc_names": "，".join(d.name for d in letter.cc_departments.all()),
        "written_date": chinese_date(letter.written_date),
        "reply_by": chinese_date(letter.reply_by),
        "signer_name": letter.signer.get_full_name() if letter.signer_id else "",
        "show_classification": letter.classification == "confidential",
        "show_urgency": letter.urgency != "normal",
    }
    return render_to_string("letters/pdf/letter.html", context)


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "head", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "head", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _TextCollector()
    parser.feed(html)
    return "".join(parser.parts)


def _normalise(text: str) -> Counter:
    text = unicodedata.normalize("NFKC", text)
    return Counter(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))


def pdf_text(pdf: bytes) -> str:
    """The PDF's text layer as a reader's copy-paste would get it (via each font's ToUnicode map)."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(pdf)).pages)


def missing_characters(source_text: str, extracted: str) -> list[str]:
    """Characters of the source that the PDF's text lacks (or holds fewer times)."""
    want, got = _normalise(source_text), _normalise(extracted)
    return sorted(ch for ch, n in want.items() if got.get(ch, 0) < n)


class _NotdefCollector(logging.Handler):
    pattern = re.compile(r'unsupported by fonts: "(.*)"')

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.chars: set[str] = set()
        self.thread = threading.get_ident()

    def emit(self, record):
        if record.thread != self.thread:
            return
        m = self.pattern.search(record.getMessage())
        if m:
            self.chars.update(ch for ch in m.group(1) if not ch.isspace())


_log_lock = threading.Lock()


@contextmanager
def _collect_notdef():
    logger = logging.getLogger("weasyprint")
    collector = _NotdefCollector()
    with _log_lock:
        logger.addHandler(collector)
        old_level = logger.level
        if logger.getEffectiveLevel() > logging.WARNING:
            logger.setLevel(logging.WARNING)
        old_propagate = logger.propagate
    try:
        yield collector
    finally:
        with _log_lock:
            logger.removeHandler(collector)
            logger.setLevel(old_level)
            logger.propagate = old_propagate


_shared_font_config = threading.local()


def _font_config(html: str):
    """(FontConfiguration, stylesheet with the shipped faces). One pair per thread while no uploaded
    font is in play: building a new configuration per letter leaves fontconfig memory behind in
    long-lived workers. Uploaded fonts are @font-face rules that WeasyPrint adds to the configuration
    on every render, so they get a fresh pair."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    if "@font-face" in html:
        config = FontConfiguration()
        return config, weasyprint.CSS(string=bundled.bundled_css(), font_config=config)
    pair = getattr(_shared_font_config, "pair", None)
    if pair is None:
        config = FontConfiguration()
        pair = _shared_font_config.pair = (config, weasyprint.CSS(string=bundled.bundled_css(), font_config=config))
    return pair


def render_pdf(html: str, *, attachments=(), title: str = "", variant: str = "pdf/a-3u") -> tuple[bytes, int, set[str]]:
    """HTML -> PDF bytes with the files embedded; returns (pdf, pages, characters drawn as .notdef)."""
    import weasyprint

    embedded = [
        weasyprint.Attachment(file_obj=fileobj, name=name, description=description, relationship="Supplement")
        for fileobj, name, description in attachments
    ]
    with _collect_notdef() as collector:
        config, shipped_faces = _font_config(html)
        document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).render(
            stylesheets=[shipped_faces], font_config=config
        )
        pdf = document.write_pdf(pdf_variant=variant or None, attachments=embedded or None, uncompressed_pdf=False)
    return pdf, len(document.pages), collector.chars


def render_letter(letter: LetterPage) -> RenderedLetter:
    html = letter_html(letter)
    files = []
    opened = []
    try:
        for att in letter.attachments.all():
            if not att.file:
                continue
            handle = att.file.open("rb")
            opened.append(handle)
            files.append((handle, att.filename, att.title))
        pdf, pages, notdef = render_pdf(html, attachments=files, title=letter.title)
    finally:
        for handle in opened:
            handle.close()
    return RenderedLetter(pdf=pdf, html=html, pages=pages, embedded_files=len(files), variant="pdf/a-3u", notdef=notdef)


def check_text(rendered: RenderedLetter) -> list[str]:
    """Every character of the letter must come back out of the PDF (pypdf) and none may have
    been drawn as a .notdef box. Returns the offending characters, empty when all is well."""
    missing = set(missing_characters(visible_text(rendered.html), pdf_text(rendered.pdf)))
    missing |= rendered.notdef
    return sorted(missing)
