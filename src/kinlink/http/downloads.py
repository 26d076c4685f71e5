"""A stored file sent to a browser or a client: its own type, and its name in the header as RFC 6266 says."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi.responses import Response

from kinlink.registry.attachments import named_for

if TYPE_CHECKING:
    from kinlink.store.casework_models import Attachment


def content_disposition(disposition: str, name: str) -> str:
    """An ASCII fallback and the real (UTF-8) name: headers are Latin-1, so a Cyrillic name cannot go in
    plain."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in name) or "file"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def pdf_response(data: bytes, file_name: str) -> Response:
    """A PDF kinlink wrote (a card, a certificate) as a download, kept by no cache: it holds personal data."""
    headers = {
        "content-disposition": content_disposition("attachment", file_name),
        "cache-control": "no-store",
    }
    return Response(data, media_type="application/pdf", headers=headers)


def file_response(row: Attachment, inline: bool = False) -> Response:
    """The file as a download (or shown inline: photos on staff pages)."""
    # Named for its content type here too: files stored before names followed their type.
    name = named_for(row.file_name, row.content_type)
    disposition = content_disposition("inline" if inline else "attachment", name)
    return Response(row.data, media_type=row.content_type, headers={"content-disposition": disposition})
