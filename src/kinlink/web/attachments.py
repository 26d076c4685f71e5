"""Photos and documents of a person: checked by their content, kept in the database, never public."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.registry.audit import record as audit
from kinlink.store.models import Person
from kinlink.store.web_models import Attachment

# The type is read from the first bytes, never trusted from the upload's headers.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
IMAGES = {"image/jpeg", "image/png", "image/webp"}
KINDS = ("photo", "document")


class AttachmentError(ValueError):
    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message)
        self.field = field


def sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for sig, ctype in SIGNATURES:
        if data.startswith(sig):
            return ctype
    return None


def safe_name(name: str | None) -> str:
    base = (
        re.sub(r"[^\w.\- ]+", "_", (name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip() or "file"
    )
    return base[:200]


def add(
    session: Session,
    actor: str,
    person_id: int,
    kind: str,
    file_name: str | None,
    data: bytes,
    max_bytes: int,
    note: str | None = None,
) -> Attachment:
    if session.get(Person, person_id) is None:
        raise AttachmentError(f"no record {person_id}", "person_id")
    if kind not in KINDS:
        raise AttachmentError("kind must be photo or document", "kind")
    if not data:
        raise AttachmentError("the file is empty")
    if len(data) > max_bytes:
        raise AttachmentError(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    ctype = sniff(data)
    if ctype is None:
        raise AttachmentError("only JPEG, PNG or WebP photos and PDF documents are accepted")
    if kind == "photo" and ctype not in IMAGES:
        raise AttachmentError("a photo must be a JPEG, PNG or WebP image")
    row = Attachment(
        person_id=person_id,
        kind=kind,
        file_name=safe_name(file_name),
        content_type=ctype,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        note=(note or "").strip() or None,
        uploaded_by=actor,
        data=data,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor,
        "create",
        "attachment",
        row.id,
        {"person_id": person_id, "kind": kind, "sha256": row.sha256, "size": row.size},
    )
    return row


def of_person(session: Session, person_id: int) -> list[Attachment]:
    return list(
        session.scalars(select(Attachment).where(Attachment.person_id == person_id).order_by(Attachment.id))
    )


def fetch(session: Session, actor: str, attachment_id: int) -> Attachment | None:
    """The attachment with its bytes; the read is audited."""
    row = session.get(Attachment, attachment_id)
    if row is not None:
        audit(session, actor, "read", "attachment", row.id, {"person_id": row.person_id})
    return row
