"""Dataclasses shared by the ingest core: what a reader yields and what extraction returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("captured", "killed", "wounded", "missing", "released", "surrendered")


@dataclass(frozen=True)
class SourceDocument:
    """One document as read from disk: an article, a text file or one Telegram message."""

    path: str  # file path; for a Telegram message "result.json#<id>"
    text: str
    sha256: str  # of the text as read, before any repair, so re-imports are idempotent
    kind: str  # "text" | "html" | "telegram"
    title: str | None = None
    url: str | None = None
    date: dt.date | None = None  # the document's own date, for "yesterday"-style resolution
    message_id: int | None = None
    channel: str | None = None
    media: tuple[str, ...] = ()  # "photo", "video"... attached to a Telegram message
    # Provenance of a Telegram message: the channel or person it was forwarded from, and its links.
    forwarded_from: str | None = None
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadProblem:
    """A document that could not be read; the message is safe to show (no personal data)."""

    path: str
    message: str


@dataclass
class Sighting:
    """A person named as the subject of a report: captured, killed, wounded, missing, released..."""

    name: str  # nominative where it could be determined
    name_as_written: str
    status: str
    evidence: str  # the sentence(s) quoted as evidence
    age: int | None = None
    birth_year: int | None = None  # only when a year or a full date of birth is written
    birth_year_range: tuple[int, int] | None = None  # from age and document date, or birth_year
    rank: str | None = None
    unit: str | None = None
    home: str | None = None
    place: str | None = None
    date: dt.date | None = None  # of the event, resolved against the document date
    date_text: str | None = None  # as written ("duminică dimineața", "вчера")
    reported_via: list[str] = field(default_factory=list)  # "video", "photo", "telegram", ...

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["date"] = self.date.isoformat() if self.date else None
        out["birth_year_range"] = list(self.birth_year_range) if self.birth_year_range else None
        return out


@dataclass
class Mention:
    """A person named in another role: official, spokesperson, journalist, relative, speaker, other."""

    name: str
    role: str
    name_as_written: str = ""
    evidence: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExtractionResult:
    path: str
    language: str | None
    sightings: list[Sighting] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    error: str | None = None  # set when the document could not be processed
    document: SourceDocument | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "language": self.language,
            "sightings": [s.to_json() for s in self.sightings],
            "mentions": [m.to_json() for m in self.mentions],
        }
        if self.document is not None:
            out["sha256"] = self.document.sha256
            out["document_date"] = self.document.date.isoformat() if self.document.date else None
            if self.document.url:
                out["url"] = self.document.url
            if self.document.forwarded_from:
                out["forwarded_from"] = self.document.forwarded_from
            if self.document.links:
                out["links"] = list(self.document.links)
        if self.error:
            out["error"] = self.error
        return out
