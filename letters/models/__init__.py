"""Letter models: the pages, their records (numbers, receipts, archives, fonts) and the review task."""

from .pages import (
    Classification,
    LetterAttachment,
    LetterIndexPage,
    LetterPage,
    LetterPageQuerySet,
    Urgency,
)
from .records import (
    ArchiveStatus,
    LetterArchive,
    LetterFont,
    LetterNumberCounter,
    LetterNumberPattern,
    LetterReceipt,
    ReceiptKind,
    private_storage,
)
from .workflow import DepartmentRoleTask

__all__ = [
    "ArchiveStatus",
    "Classification",
    "DepartmentRoleTask",
    "LetterArchive",
    "LetterAttachment",
    "LetterFont",
    "LetterIndexPage",
    "LetterNumberCounter",
    "LetterNumberPattern",
    "LetterPage",
    "LetterPageQuerySet",
    "LetterReceipt",
    "ReceiptKind",
    "Urgency",
    "private_storage",
]
