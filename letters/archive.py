"""Archiving a signed letter: render, check the text, store once with its SHA-256.

Idempotent and crash-safe: the archive row is unique per letter (OneToOne); the PDF is written
to a temporary name beside its final place, and only the holder of the row lock renames it
into place and marks the row done in the same short transaction. A worker killed at any
point leaves either no finished archive (the next run redoes it over the same name) or
exactly one. A finished archive is never rewritten.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from portal.notifications.services import notify

from .models import ArchiveStatus, LetterArchive, LetterPage, private_storage
from .pdf import MissingGlyphs, check_text, render_letter
from .services import KIND_ARCHIVE_FAILED, LetterNotSigned, administrators, archive_filename


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(archive: LetterArchive) -> str:
    digest = hashlib.sha256()
    with archive.file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _local_path(storage, name: str) -> Path | None:
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None


def _write_temp(storage, name: str, data: bytes) -> Path | None:
    """Write ``data`` beside ``name`` under a unique temporary name and fsync it."""
    final = _local_path(storage, name)
    if final is None:
        return None
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.partial")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o440)
    return tmp


def _clean_partials(final: Path) -> None:
    for stale in final.parent.glob(f".{final.name}.*.partial"):
        stale.unlink(missing_ok=True)


def _fail(letter: LetterPage, archive: LetterArchive, message: str) -> None:
    LetterArchive.objects.filter(pk=archive.pk).exclude(status=ArchiveStatus.DONE).update(
        status=ArchiveStatus.FAILED, error=message
    )
    log(instance=letter, action="letters.archive_failed", data={"error": message[:500]})
    notify(
        administrators(),
        kind=KIND_ARCHIVE_FAILED,
        event_key=f"letter:{letter.pk}:archive-failed:{archive.attempts}",
        title=_("函件归档失败：%(number)s %(title)s") % {"number": letter.doc_number, "title": letter.title},
        body=message,
        url=letter.get_url() or "",
    )


def archive_letter(letter_id: int) -> LetterArchive:
    """Render and store the archive of a signed letter (the body of the django-q2 task)."""
    letter = LetterPage.objects.select_related("issuing_department", "signer").get(pk=letter_id)
    if not letter.is_signed or not letter.live:
        raise LetterNotSigned(_("函件 %(pk)s 尚未签发，不能归档。") % {"pk": letter_id})
    archive, _created = LetterArchive.objects.get_or_create(letter=letter)
    if archive.status == ArchiveStatus.DONE:
        return archive
    LetterArchive.objects.filter(pk=archive.pk).update(attempts=archive.attempts + 1)
    archive.attempts += 1

    try:
        rendered = render_letter(letter)
        missing = check_text(rendered)
    except Exception as exc:
        _fail(letter, archive, _("排版或文字校验出错：%(error)s") % {"error": exc})
        raise
    if missing:
        error = MissingGlyphs(missing)
        _fail(letter, archive, str(error))
        raise error

    storage = private_storage()
    name = archive_filename(letter)
    digest = sha256_of(rendered.pdf)
    tmp = _write_temp(storage, name, rendered.pdf)
    try:
        with transaction.atomic():
            row = LetterArchive.objects.select_for_update().get(pk=archive.pk)
            if row.status == ArchiveStatus.DONE:
                return row  # another run finished first; ours is discarded below
            if tmp is not None:
                final = _local_path(storage, name)
                os.replace(tmp, final)  # replaces only an unfinished run's file: no row points at it
                tmp = None
                stored = name
            else:  # remote storage: no rename; a unique name per attempt, the row names the one kept
                stored = storage.save(name, ContentFile(rendered.pdf))
            row.file.name = stored
            row.sha256 = digest
            row.size = len(rendered.pdf)
            row.pages = rendered.pages
            row.pdf_variant = rendered.variant
            row.embedded_files = rendered.embedded_files
            row.status = ArchiveStatus.DONE
            row.error = ""
            row.completed_at = timezone.now()
            row.save()
            log(instance=letter, action="letters.archive", data={"sha256": digest, "file": stored, "pages": rendered.pages})
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    final = _local_path(storage, name)
    if final is not None:
        _clean_partials(final)
    return row


def verify_archive(archive: LetterArchive) -> bool:
    """Does the stored file still have the hash recorded when it was archived?"""
    if archive.status != ArchiveStatus.DONE or not archive.file:
        return False
    try:
        return file_sha256(archive) == archive.sha256
    except FileNotFoundError:
        return False

