"""Reading PDFs in tests with Python packages only (pdfminer.six, pypdf, pypdfium2): no poppler."""

from __future__ import annotations

from collections import defaultdict
from io import BytesIO
from pathlib import Path


def _stream(source):
    return BytesIO(source) if isinstance(source, bytes) else open(Path(source), "rb")  # noqa: SIM115


def text(source) -> str:
    """The text layer, as pdftotext would give it."""
    from pdfminer.high_level import extract_text

    with _stream(source) as fh:
        return extract_text(fh)


def page_chars(source) -> list[dict]:
    """Per page: ``{"height", "chars": [(x0, top, char, baseline, size), ...]}``; ``top`` (of the glyph's
    box as pdfminer computes it from the font's descent) and ``baseline`` are measured from the page's top edge."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTChar, LTContainer

    def walk(item):
        if isinstance(item, LTChar):
            yield item
        elif isinstance(item, LTContainer):
            for child in item:
                yield from walk(child)

    pages = []
    with _stream(source) as fh:
        for page in extract_pages(fh):
            height = page.height
            chars = [(c.x0, height - c.y1, c.get_text(), height - c.matrix[5], c.size) for c in walk(page)]
            pages.append({"height": height, "chars": chars})
    return pages


def page_lines(source) -> list[list[str]]:
    """Per page, its lines top to bottom (characters on one baseline, left to right, no spaces)."""
    out = []
    for page in page_chars(source):
        rows: dict[int, list[tuple[float, str]]] = defaultdict(list)
        for x0, top, ch, _baseline, _size in page["chars"]:
            if not ch.isspace():
                rows[round(top)].append((x0, ch))
        merged: list[tuple[int, list]] = []
        for top in sorted(rows):
            # Glyphs of one line can differ by a point in their boxes (mixed fonts): merge close rows.
            if merged and top - merged[-1][0] <= 3:
                merged[-1][1].extend(rows[top])
            else:
                merged.append((top, list(rows[top])))
        out.append(["".join(ch for _, ch in sorted(chars)) for _, chars in merged])
    return out


def reader(source):
    from pypdf import PdfReader

    return PdfReader(BytesIO(source) if isinstance(source, bytes) else str(source))


def xmp(source) -> str:
    """The document's XMP metadata packet (where PDF/A declares its part and conformance)."""
    root = reader(source).trailer["/Root"]
    return root["/Metadata"].get_object().get_data().decode("utf-8")


def attachment_names(source) -> list[str]:
    return list(reader(source).attachments)


def page_size(source, index: int = 0) -> tuple[float, float]:
    box = reader(source).pages[index].mediabox
    return float(box.width), float(box.height)


def font_names(source) -> set[str]:
    names = set()
    for page in reader(source).pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            names.add(str(ref.get_object().get("/BaseFont", "")))
    return names


def render_page(source, index: int = 0, dpi: int = 100):
    """One page as a PIL image (PDFium, from the pypdfium2 wheel)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    try:
        return pdf[index].render(scale=dpi / 72).to_pil()
    finally:
        pdf.close()
