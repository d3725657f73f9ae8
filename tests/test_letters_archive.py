"""Letters: the GB/T 9704 PDF archive — text, layout, fonts, hash, idempotency and faults."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from django.core.files.base import ContentFile

import pytest

from letters import archive as archive_module
from letters.archive import archive_letter
from letters.models import ArchiveStatus, LetterArchive, LetterFont, LetterPage
from letters.pdf import MissingGlyphs, check_text, font_faces, missing_characters, render_letter, visible_text
from letters.services import LetterNotSigned
from letters.testing import draft_letter, sign
from portal.notifications.models import Notification
from tests import pdfinspect

LONG = (
    "物业服务企业应当按照合同约定对房屋及配套设施设备和相关场地进行维修养护管理维护环境卫生和相关秩序"
    "协助做好安全防范工作并接受业主监督定期公布服务事项收费项目标准以及履行情况"
)


@pytest.fixture
def signed(org, django_capture_on_commit_callbacks):
    def make(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            return sign(org, draft_letter(org, **fields))

    return make


def archive_path(letter) -> Path:
    return Path(LetterArchive.objects.get(letter=letter).file.path)


def test_signed_letter_is_archived_with_hash_and_embedded_attachment(org, signed):
    letter = signed(cc=("quality", "environment"), attachments=[("分楼栋时间安排表", "schedule.csv", "楼栋,日期\n1号楼,周一\n".encode())])
    archive = LetterArchive.objects.get(letter=letter)
    assert archive.status == ArchiveStatus.DONE
    data = archive.file.read()
    assert data.startswith(b"%PDF") and archive.sha256 == hashlib.sha256(data).hexdigest() and archive.size == len(data)
    assert archive.embedded_files == 1
    meta = pdfinspect.xmp(archive.file.path)
    assert re.search(r"pdfaid:part(>|=\")3", meta) and re.search(r"pdfaid:conformance(>|=\")U", meta)
    assert any("schedule" in name for name in pdfinspect.attachment_names(archive.file.path))
    text = pdfinspect.text(archive.file.path)
    for expected in (letter.doc_number, "示范物业服务有限公司工程部", "客服部：", "签发人：王立新", "抄送：品质管理部，环境部。", "附件：分楼栋时间安排表"):
        assert expected in text.replace(" ", ""), expected
    width, height = pdfinspect.page_size(archive.file.path)
    assert (round(width, 2), round(height, 2)) == (595.28, 841.89)  # A4


def test_every_character_of_the_letter_comes_back_out_of_the_pdf(org, signed):
    letter = signed(background="（一）检验时间：每栋楼约半天。\n（二）停运期间请关注“安全提示”。", requests="1. 请于2026年11月25日前复函；\n2. 联系电话0571-8800 1006。")
    rendered = render_letter(LetterPage.objects.get(pk=letter.pk))
    assert check_text(rendered) == []
    source = visible_text(rendered.html)
    for part in (letter.title, letter.subject, "（一）检验时间：每栋楼约半天。", "2026年11月25日", "0571-8800"):
        assert part in source
    extracted = pdfinspect.text(archive_path(letter))
    assert missing_characters(source, extracted) == []


def test_layout_follows_gbt_9704_grid_and_page_numbers(org, signed):
    letter = signed(background="\n".join([LONG * 3] * 6), requests="\n".join([LONG * 2] * 4))
    path = archive_path(letter)
    pages = [lines for lines in pdfinspect.page_lines(path) if lines]
    assert len(pages) >= 3
    # No page number on page one; "— n —" from page two on.
    assert "—1—" not in pages[0]
    assert pages[1][-1] == "—2—" and pages[2][-1] == "—3—"
    # 28 characters a line and 22 lines a page in the body (page two is all body text).
    body_lines = [ln for ln in pages[1] if "—" not in ln]
    full = [ln for ln in body_lines if len(ln) >= 20]
    assert max(len(ln) for ln in full) == 28
    assert sum(1 for ln in full if len(ln) == 28) >= 15
    assert len(body_lines) == 22
    # Page two's type area starts 37 mm from the top and 28 mm from the left: the first line's
    # ideographic em box (0.88 above the baseline, 0.12 below) is centred in the first line of the
    # grid, 37 mm + half of 225/22 mm = 119.4 pt from the top.
    second = [c for c in pdfinspect.page_chars(path)[1]["chars"] if not c[2].isspace()]
    baseline, size = min((c[3], c[4]) for c in second)
    assert abs((baseline - 0.38 * size) - (37 + 225 / 22 / 2) * 72 / 25.4) <= 2
    assert 78 <= min(c[0] for c in second) <= 82  # 28 mm = 79.4 pt


def test_red_double_rules_on_the_first_page(org, signed, tmp_path):
    letter = signed()
    image = pdfinspect.render_page(archive_path(letter), 0, dpi=100).convert("RGB")
    px = image.load()
    red_rows = {y for y in range(image.size[1]) for x in range(0, image.size[0], 7) if px[x, y][0] > 180 and px[x, y][1] < 90}
    mm = sorted({round(y / 100 * 25.4) for y in red_rows})
    assert any(270 <= v <= 278 for v in mm)  # 20 mm above the bottom edge (297 - 20 = 277)
    assert any(38 <= v <= 50 for v in mm)  # under the issuing body's name
    # The issuing body's name (red) starts 30 mm from the top edge.
    assert 29.5 <= min(red_rows) / 100 * 25.4 <= 31.5
    widths = [x for x in range(image.size[0]) if px[x, max(red_rows)][0] > 180 and px[x, max(red_rows)][1] < 90]
    assert 160 <= (max(widths) - min(widths)) / 100 * 25.4 <= 172  # 170 mm


def test_missing_character_fails_the_task_loudly(org, signed):
    # Tests run django-q2 synchronously, where the task's exception reaches the caller.
    with pytest.raises(MissingGlyphs):
        signed(subject="藏文字符ༀ不在字体中。")
    letter = LetterPage.objects.get(subject="藏文字符ༀ不在字体中。")
    archive = LetterArchive.objects.get(letter=letter)
    assert archive.status == ArchiveStatus.FAILED
    assert "U+0F00" in archive.error and not archive.file
    note = Notification.objects.filter(kind="letter.archive_failed", recipient=org.users["admin"]).first()
    assert note is not None and "U+0F00" in note.body
    assert "U+0F00" in letter.serve(_request(org.users["eng_head"])).render().content.decode()
    with pytest.raises(MissingGlyphs):
        archive_letter(letter.pk)


def test_one_missing_character_is_caught_even_when_the_text_layer_looks_right(org):
    letter = sign(org, draft_letter(org, subject="只缺一个字：𠀀。"))
    rendered = render_letter(letter)
    assert "𠀀" in check_text(rendered)


def test_unsigned_letter_is_not_archived(org):
    letter = draft_letter(org)
    with pytest.raises(LetterNotSigned):
        archive_letter(letter.pk)
    assert not LetterArchive.objects.filter(letter=letter).exists()
    from letters.services import issue_letter

    with pytest.raises(LetterNotSigned):
        issue_letter(letter, signer=org.users["leader"])
    assert not letter.receipts.exists()


def test_archive_twice_keeps_the_first_file(org, signed):
    letter = signed()
    archive = LetterArchive.objects.get(letter=letter)
    path = Path(archive.file.path)
    stat = path.stat()
    again = archive_letter(letter.pk)
    assert again.pk == archive.pk and again.sha256 == archive.sha256
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    assert len(list(path.parent.glob(f"{letter.pk}-*.pdf"))) == 1


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request


class Killed(BaseException):
    """What the worker sees when it is killed: nothing after this line runs."""


def _pdfs_for(letter) -> list[Path]:
    from letters.models import private_storage
    from letters.services import archive_filename

    final = Path(private_storage().path(archive_filename(letter)))
    return sorted(final.parent.glob(f"{letter.pk}-*.pdf")) + sorted(final.parent.glob(f".{letter.pk}-*.partial"))


def test_worker_killed_mid_render_then_rerun_leaves_one_archive(org, monkeypatch):
    letter = sign(org, draft_letter(org))  # no on_commit: the task has not run yet

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(archive_module, "render_letter", killed)
    with pytest.raises(Killed):
        archive_letter(letter.pk)
    assert LetterArchive.objects.get(letter=letter).status == ArchiveStatus.PENDING
    monkeypatch.undo()
    archive = archive_letter(letter.pk)
    assert archive.status == ArchiveStatus.DONE and archive.attempts == 2
    assert [p.name for p in _pdfs_for(letter)] == [Path(archive.file.name).name]


def test_worker_killed_after_rename_before_commit_then_rerun_leaves_one_archive(org, monkeypatch):
    letter = sign(org, draft_letter(org))
    real_save = LetterArchive.save

    def killed_save(self, *args, **kwargs):
        if self.status == ArchiveStatus.DONE:
            raise Killed
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(LetterArchive, "save", killed_save)
    with pytest.raises(Killed):
        archive_letter(letter.pk)
    row = LetterArchive.objects.get(letter=letter)
    assert row.status == ArchiveStatus.PENDING and not row.sha256
    assert len(_pdfs_for(letter)) == 1  # the renamed file, which no finished row names
    monkeypatch.undo()
    archive = archive_letter(letter.pk)
    files = _pdfs_for(letter)
    assert len(files) == 1 and hashlib.sha256(files[0].read_bytes()).hexdigest() == archive.sha256
    assert LetterArchive.objects.filter(letter=letter).count() == 1


def test_one_archive_row_per_letter_is_a_database_rule(org, signed):
    from django.db import IntegrityError, transaction

    letter = signed()
    with pytest.raises(IntegrityError), transaction.atomic():
        LetterArchive.objects.create(letter=letter)


def test_download_checks_the_hash(org, signed, login):
    letter = signed()
    client = login(org.users["cs_staff"])
    response = client.get(f"/letters/{letter.pk}/pdf/")
    archive = LetterArchive.objects.get(letter=letter)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Content-SHA256"] == archive.sha256
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert archive.sha256 in client.get(letter.url).content.decode()
    path = Path(archive.file.path)
    path.chmod(0o640)
    path.write_bytes(path.read_bytes() + b"tampered")
    response = client.get(f"/letters/{letter.pk}/pdf/")
    assert response.status_code == 500
    assert Notification.objects.filter(kind="letter.archive_failed", recipient=org.users["admin"]).exists()


def test_admin_lists_archives_read_only(org, signed, login):
    letter = signed()
    client = login(org.users["admin"])
    body = client.get("/admin/snippets/letters/letterarchive/").content.decode()
    assert f"/letters/{letter.pk}/pdf/" in body
    assert client.get("/admin/snippets/letters/letterarchive/add/").status_code in (302, 403)


def test_uploaded_font_comes_first_in_its_stack(org, tmp_path):
    font_file = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
    if not font_file.exists():
        pytest.skip("DejaVu Serif is not installed")
    font = LetterFont(name="测试字体", role="body", priority=1)
    font.file.save("test-font.ttf", ContentFile(font_file.read_bytes()), save=False)
    font.full_clean()
    font.save()
    faces, stacks = font_faces()
    assert faces[0]["family"] == font.family
    assert stacks["body"].startswith(f'"{font.family}"')
    rendered = render_letter(sign(org, draft_letter(org, subject="English words use the uploaded font.")))
    assert check_text(rendered) == []
    assert any(font.family in name for name in pdfinspect.font_names(rendered.pdf))


def test_font_upload_rejects_non_fonts(org):
    from django.core.exceptions import ValidationError

    font = LetterFont(name="坏字体", role="body")
    font.file = ContentFile(b"not a font", name="bad.ttf")
    font.file._committed = False
    with pytest.raises(ValidationError):
        font.full_clean()
