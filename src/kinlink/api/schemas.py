"""Bodies and answers of the REST API."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from kinlink.person.confirmation import LEVELS
from kinlink.person.fields import COLUMNS, CONSENT_COLUMNS, MEANINGS, NOT_PERSON_FIELDS
from kinlink.person.notes import note_english
from kinlink.person.text import describe
from kinlink.registry.people import Listed
from kinlink.tracing.intake import FIELDS as REQUEST_FIELDS

if TYPE_CHECKING:
    from kinlink.store.models import Person


class In(BaseModel):
    """A request body: unknown fields and text that is not text (NUL, lone surrogates, bidi overrides...)
    are refused, naming the field."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _only_text(cls, value: Any) -> Any:
        reason = describe(value)
        if reason:
            raise ValueError(reason)
        return value


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    date: str | None
    place: str | None
    note: str | None = Field(description="the note, in English where kinlink wrote it")
    note_message: dict | None = Field(
        None, description='a note kinlink wrote, as data: {"kind": "reported", "status": ..., "via": [...]}'
    )
    confirmation: str = Field(description="how it is known: " + ", ".join(LEVELS))
    author: str | None = Field(None, description="who wrote the note (a partner's note's author)")

    @model_validator(mode="after")
    def _english(self) -> EventOut:
        if self.note is None and self.note_message:
            self.note = note_english(self.note_message)
        return self


class NameOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    full_name: str
    family_name: str | None
    given_names: str | None
    patronymic: str | None
    script: str | None
    language: str | None


class RecordSummary(BaseModel):
    id: int
    source: str
    record_id: str
    full_name: str
    sex: str | None
    birth_date: str | None
    unit: str | None
    status: str | None
    status_date: str | None
    probability: float | None = None


class RecordOut(RecordSummary):
    version: int
    names: list[NameOut]
    fields: dict[str, Any]
    consent: dict[str, bool]
    events: list[EventOut]


# A record's own fields (all but its names, its history, its consent and what the summary shows).
DETAIL_FIELDS = tuple(
    c
    for c in COLUMNS
    if c not in (*NOT_PERSON_FIELDS, *CONSENT_COLUMNS, "full_name", "sex", "birth_date", "unit")
    and c not in ("status", "status_date", "place")
)


_LISTED = tuple(f.name for f in fields(Listed) if f.name != "source_record_id")


def record_summary(p: Listed, probability: float | None = None) -> RecordSummary:
    shown = {f: getattr(p, f) for f in _LISTED}
    return RecordSummary(**shown, record_id=p.source_record_id, probability=probability)


def record_out(p: Person) -> RecordOut:
    return RecordOut(
        **record_summary(Listed.of(p)).model_dump(),
        version=p.version,
        names=[NameOut.model_validate(n) for n in p.names],
        fields={f: getattr(p, f) for f in DETAIL_FIELDS},
        consent={c: bool(getattr(p, c)) for c in CONSENT_COLUMNS},
        events=[EventOut.model_validate(e) for e in p.events],
    )


def _column_type(column: str) -> Any:
    if column in CONSENT_COLUMNS:
        return bool | None
    if column == "alternate_names":
        return list[str] | None
    if column == "events":
        return list[dict[str, Any]] | None
    if column == "age":
        return int | str | None
    return str | None


# A record in the registrar's format: the registry's columns, each with its meaning, so that a column added
# to the registry (kinlink.person.fields) reaches the API as it reaches the importer, the form and the export.
RecordIn = create_model(
    "RecordIn",
    __base__=In,
    __doc__="A record in the registrar's format (the same columns and rules as `kinlink import registry`).",
    **{c: (_column_type(c), Field(default=None, description=MEANINGS[c])) for c in COLUMNS},  # type: ignore[call-overload]
)


class RecordUpdate(RecordIn):  # type: ignore[valid-type,misc]
    version: int = Field(description="the version you read: the update fails (409) if it changed meanwhile")


class EventIn(In):
    kind: str
    date: str | None = None
    place: str | None = None
    note: str | None = None
    confirmation: str | None = Field(
        None, description="how it is known: " + ", ".join(LEVELS) + " (default: detaining_power)"
    )
    version: int | None = None


class ConsentIn(In):
    consent_inform_family: bool | None = None
    consent_share_location: bool | None = None
    consent_share_health: bool | None = None
    consent_share_photo: bool | None = None
    given_on: str | None = Field(
        None, description="when the person gave or withdrew it: YYYY, YYYY-MM or YYYY-MM-DD"
    )
    given_by: str | None = Field(None, max_length=300, description="who said so: the person, a delegate...")
    given_how: str | None = Field(
        None, description="in_person, in_writing, remote, capture_card, notification or other"
    )
    version: int | None = None


class DeathDisclosureIn(In):
    disclose: bool
    include_place: bool = False


class SightingIn(In):
    """A person named in a report (news, Telegram...): stored as a record of a report source."""

    source: str = Field(
        min_length=1, max_length=200, description="the report's source, e.g. a site or a channel"
    )
    full_name: str
    status: str = Field(description="what the report says: captured, killed, wounded, missing, released...")
    date: str | None = None
    place: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    age: int | None = None
    age_as_of: str | None = None
    rank: str | None = None
    unit: str | None = None
    url: str | None = None
    evidence: str | None = Field(default=None, max_length=4000, description="the sentence(s) quoted")


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    person_id: int
    kind: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    note: str | None
    created_at: datetime


# A family's tracing request: the fields every door offers (kinlink.tracing.intake), checked there.
_REQUEST_TYPES: dict[str, Any] = {
    "full_name": (str, Field(description="the person sought, as the family writes the name (any script)")),
    "enquirer_name": (str, Field(description="who asks")),
    "age": (
        int | str | None,
        Field(default=None, description="when the birth date is unknown (with age_as_of)"),
    ),
    "birth_date": (
        str | None,
        Field(default=None, description="YYYY, YYYY-MM, YYYY-MM-DD, or years YYYY-YYYY"),
    ),
    "language": (Literal["en", "ro", "ru", "uk"] | None, Field(default=None, description="the enquirer's")),
    "agree": (bool, Field(description="the enquirer agrees that the information is used for tracing")),
}
RequestIn = create_model(
    "RequestIn",
    __base__=In,
    __doc__="A family's tracing request (no account needed).",
    **{f: _REQUEST_TYPES.get(f, (str | None, None)) for f in REQUEST_FIELDS},  # type: ignore[call-overload]
)


class RequestFiled(BaseModel):
    reference: str
    secret: str = Field(description="shown once: keep it, it is not stored and cannot be shown again")
    emailed: bool = Field(description="true only when an email with them is really being sent")


class Credentials(In):
    reference: str = Field(max_length=40)
    secret: str = Field(max_length=200)


class FamilyStatus(BaseModel):
    reference: str
    stage: str
    items: dict[str, Any]
    messages: list[dict[str, Any]]
    verified: bool = Field(
        description="whether a caseworker has verified the enquirer: until then the stage is in_progress"
    )


class VerificationIn(In):
    method: Literal["identity_document", "call_back", "video_call", "partner_society"]
    relationship: str = Field(description="how the enquirer is related to the person sought, as verified")
    note: str | None = Field(default=None, description="e.g. which document was seen, which partner society")


class VerificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    request_id: int
    method: str
    relationship: str
    note: str | None
    recorded_by: str
    recorded_at: datetime
    withdrawn_by: str | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None


class WithdrawIn(In):
    reason: str


class CertificateIn(In):
    ref: str = Field(
        max_length=400,
        description="TR-XXXX-XXXX (for that request's family), or a record: its id or source:record_id",
    )
    recipient: str | None = Field(default=None, description="to whom a record's certificate is issued")
    language: Literal["en", "ro", "ru", "uk"] | None = Field(
        default=None, description="the family's language (default: the request's), beside the bureau's"
    )


class RevokeIn(In):
    reason: str


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reference: str
    state: str
    full_name: str
    other_names: list[str] | None
    sex: str | None
    birth_date: str | None
    place_of_birth: str | None
    rank: str | None
    unit: str | None
    service_number: str | None
    capture_place: str | None
    capture_date: str | None
    last_seen: str | None
    enquirer_name: str
    enquirer_relationship: str | None
    enquirer_contact: str | None
    enquirer_language: str | None
    matched_person_id: int | None
    created_at: datetime


class CandidateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    request_id: int | None
    left_person_id: int | None
    person_id: int
    probability: float
    explanation: dict[str, Any]
    state: str
    decided_by: str | None
    decided_at: datetime | None
    version: int


class DecisionIn(In):
    decision: Literal["confirmed", "rejected", "pending"] = Field(
        description="confirmed or rejected (a pending candidate); pending undoes a decision, with a reason"
    )
    reason: str | None = None
    version: int
    supersede: bool = Field(
        False, description="confirm this match in place of the request's confirmed one (with the reason)"
    )


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    request_id: int
    person_id: int
    direction: str
    body: str
    state: str
    reviewed_by: str | None
    review_note: str | None
    delivered_at: datetime | None
    version: int
    created_at: datetime


class MessageIn(In):
    body: str


class ReviewIn(In):
    approve: bool
    note: str | None = None
    version: int | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str | None
    role: str
    active: bool


class UserIn(In):
    username: str
    password: str
    role: Literal["registrar", "caseworker", "admin"]
    display_name: str | None = None


class UserPatch(In):
    role: Literal["registrar", "caseworker", "admin"] | None = None
    active: bool | None = None
    password: str | None = None
    display_name: str | None = None


class TokenIn(In):
    name: str = "token"


class TokenOut(BaseModel):
    id: int
    name: str
    token: str = Field(description="shown once")


class PfifImport(BaseModel):
    version: str = Field(description="the PFIF version read (from the document's namespace)")
    created: int
    updated: int
    unchanged: int
    erased: int = Field(description="records erased because the partner's record expired")
    notes_added: int = Field(description="notes outside their person added to kinlink's record of it")
    links: int = Field(description="pairs of records proposed as the same person by a note")
    unknown_notes: list[str] = Field(description="notes about persons kinlink does not have (not imported)")
    skipped: list[str]
