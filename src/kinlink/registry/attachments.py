"""Photos and documents of a person: checked by their content, kept in the database, never public."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.errors import Refused, refuse
from kinlink.person.text import text_problem
from kinlink.store.audit import record as audit
from kinlink.store.casework_models import Attachment
from kinlink.store.models import Person

# The type is read from the first bytes, never trusted from the upload's headers.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
IMAGES = {"image/jpeg", "image/png", "image/webp"}
# A file's name ends in its type's extension (the first is the one given): a PNG called poly.html would
# otherwise be opened as a web page by whoever downloads it.
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
}
KINDS = ("photo", "document")


def _refused(message: str, field: str = "file", **values: object) -> Refused:
    return refuse("invalid", field, message, **values)


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
    """The upload's file name, or a refusal saying why (a name is never changed silently)."""
    name = (name or "").strip()
    if not name:
        raise _refused("the file has no name")
    if len(name) > MAX_NAME:
        raise _refused("the file name is longer than %(n)s characters: rename the file", n=MAX_NAME)
    found = text_problem(name, multiline=False)
    if found:
        raise _refused(found[0], **found[1])
    for ch, what in _FORBIDDEN.items():
        if ch in name:
            raise _refused("the file name contains %(what)s: send the file under a plain name", what=what)
    if name.startswith("."):
        raise _refused("the file name starts with a dot: rename the file")
    return name


def named_for(file_name: str, content_type: str) -> str:
    """The name with the extension of the type its content has: a wrong extension (up to five letters
    and digits after the last dot) is replaced, a missing one added."""
    wanted = EXTENSIONS.get(content_type)
    if not wanted or file_name.lower().endswith(wanted):
        return file_name
    stem, dot, suffix = file_name.rpartition(".")
    if dot and stem and len(suffix) <= 5 and suffix.isalnum() and not suffix.isdigit():
        file_name = stem
    return file_name + wanted[0]


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
    """A photo or document of a record, checked by its content (never by the name or the declared type)."""
    if session.get(Person, person_id) is None:
        raise refuse("not_found", "person_id", "no record %(id)s", id=person_id)
    if kind not in KINDS:
        raise _refused("kind must be photo or document", "kind")
    if not data and not (file_name or "").strip():
        raise _refused("no file was chosen")
    file_name = check_name(file_name)
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise _refused("the note is longer than %(n)s characters", "note", n=MAX_NOTE)
    found = text_problem(note)
    if found:
        raise _refused(found[0], "note", **found[1])
    if not data:
        raise _refused("the file is empty")
    if len(data) > max_bytes:
        raise refuse("too_large", "file", "the file is larger than %(mb)s MB", mb=max_bytes // (1024 * 1024))
    ctype = sniff(data)
    if ctype is None:
        raise _refused("only JPEG, PNG or WebP photos and PDF documents are accepted")
    if kind == "photo" and ctype not in IMAGES:
        raise _refused("a photo must be a JPEG, PNG or WebP image")
    row = Attachment(
        person_id=person_id,
        kind=kind,
        file_name=named_for(file_name, ctype),
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
    """A record's attachments (without their bytes), for the record's own page or answer."""
    return list(
        session.scalars(select(Attachment).where(Attachment.person_id == person_id).order_by(Attachment.id))
    )


def fetch(session: Session, actor: str, attachment_id: int) -> Attachment:
    """The attachment with its bytes; the read is audited."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise refuse("not_found", "attachment_id", "no attachment %(id)s", id=attachment_id)
    audit(session, actor, "read", "attachment", row.id, {"person_id": row.person_id})
    return row


def read_of_person(session: Session, actor: str, person_id: int, view: str) -> list[Attachment]:
    """A record's attachments for staff, who learn what is held on the person: a read of the record."""
    if session.get(Person, person_id) is None:
        raise refuse("not_found", "person_id", "no record %(id)s", id=person_id)
    audit(session, actor, "read", "person", person_id, {"view": view})
    return of_person(session, person_id)
