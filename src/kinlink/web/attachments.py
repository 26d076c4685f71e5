"""Photos and documents of a person: checked by their content, kept in the database, never public."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.registry.audit import record as audit
from kinlink.registry.fields import control_character
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
    def __init__(self, message: str, field: str = "file", too_large: bool = False) -> None:
        super().__init__(message)
        self.field, self.too_large = field, too_large


def sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for sig, ctype in SIGNATURES:
        if data.startswith(sig):
            return ctype
    return None


MAX_NAME = 200
MAX_NOTE = 2000
# Never in a file's own name: path separators (a name is not a path), quotes and angle brackets (they would
# break a header or read as markup), and control characters (NUL...).
_FORBIDDEN = {"/": "a path (/)", "\\": "a path (\\)", '"': "a quote", "<": "a <", ">": "a >"}


def check_name(name: str | None) -> str:
    """The upload's file name, or an AttachmentError saying why it is refused (never renamed silently)."""
    name = (name or "").strip()
    if not name:
        raise AttachmentError("the file has no name")
    if len(name) > MAX_NAME:
        raise AttachmentError(f"the file name is longer than {MAX_NAME} characters: rename the file")
    bad = control_character(name)
    if bad:
        raise AttachmentError(f"the file name contains a control character ({bad}): rename the file")
    for ch, what in _FORBIDDEN.items():
        if ch in name:
            raise AttachmentError(f"the file name contains {what}: send the file under a plain name")
    if name.startswith("."):
        raise AttachmentError("the file name starts with a dot: rename the file")
    return name


def content_disposition(disposition: str, name: str) -> str:
    """The header for a download: an ASCII fallback and the real (UTF-8) name, as RFC 6266 says; headers are
    Latin-1, so a Cyrillic name cannot go in plain."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in name) or "file"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


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
    if not data and not (file_name or "").strip():
        raise AttachmentError("no file was chosen")
    file_name = check_name(file_name)
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise AttachmentError(f"the note is longer than {MAX_NOTE} characters", "note")
    if note and control_character(note):
        raise AttachmentError(f"the note contains a control character ({control_character(note)})", "note")
    if not data:
        raise AttachmentError("the file is empty")
    if len(data) > max_bytes:
        raise AttachmentError(f"the file is larger than {max_bytes // (1024 * 1024)} MB", too_large=True)
    ctype = sniff(data)
    if ctype is None:
        raise AttachmentError("only JPEG, PNG or WebP photos and PDF documents are accepted")
    if kind == "photo" and ctype not in IMAGES:
        raise AttachmentError("a photo must be a JPEG, PNG or WebP image")
    row = Attachment(
        person_id=person_id,
        kind=kind,
        file_name=file_name,
        content_type=ctype,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        note=note,
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
