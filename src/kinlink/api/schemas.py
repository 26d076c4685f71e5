"""Bodies and answers of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kinlink.registry.fields import control_character


class In(BaseModel):
    """A request body: unknown fields and control characters (NUL...) are refused, naming the field."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        bad = control_character(value)
        if bad:
            raise ValueError(f"contains a control character ({bad}): remove it")
        return value


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    date: str | None
    place: str | None
    note: str | None


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


class RecordIn(In):
    """A record in the registrar's format (the same columns and rules as `kinlink import registry`)."""

    record_id: str | None = None
    full_name: str | None = None
    family_name: str | None = None
    given_names: str | None = None
    patronymic: str | None = None
    name_language: str | None = None
    alternate_names: list[str] | None = None
    sex: str | None = None
    birth_date: str | None = None
    age: int | str | None = None
    age_as_of: str | None = None
    place_of_birth: str | None = None
    nationality: str | None = None
    power: str | None = None
    rank: str | None = None
    unit: str | None = None
    service_number: str | None = None
    father_name: str | None = None
    mother_maiden_name: str | None = None
    inform_name: str | None = None
    inform_address: str | None = None
    distinguishing_marks: str | None = None
    location: str | None = None
    consent_inform_family: bool | None = None
    consent_share_location: bool | None = None
    consent_share_health: bool | None = None
    consent_share_photo: bool | None = None
    notes: str | None = None
    status: str | None = None
    status_date: str | None = None
    place: str | None = None
    events: list[dict[str, Any]] | None = None


class RecordUpdate(RecordIn):
    version: int = Field(description="the version you read: the update fails (409) if it changed meanwhile")


class EventIn(In):
    kind: str
    date: str | None = None
    place: str | None = None
    note: str | None = None
    version: int | None = None


class ConsentIn(In):
    consent_inform_family: bool | None = None
    consent_share_location: bool | None = None
    consent_share_health: bool | None = None
    consent_share_photo: bool | None = None
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


class RequestIn(In):
    """A family's tracing request (no account needed)."""

    full_name: str
    other_names: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    place_of_birth: str | None = None
    rank: str | None = None
    unit: str | None = None
    service_number: str | None = None
    capture_place: str | None = None
    capture_date: str | None = None
    last_seen: str | None = None
    enquirer_name: str
    relationship: str | None = None
    contact: str | None = None
    language: Literal["en", "ro", "ru", "uk"] | None = None
    agree: bool = Field(description="the enquirer agrees that the information is used for tracing")


class RequestFiled(BaseModel):
    reference: str
    secret: str = Field(description="shown once: keep it, it is not stored and cannot be shown again")
    emailed: bool


class Credentials(In):
    reference: str = Field(max_length=40)
    secret: str = Field(max_length=200)


class FamilyStatus(BaseModel):
    reference: str
    stage: str
    items: dict[str, Any]
    messages: list[dict[str, Any]]


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
    decision: Literal["confirmed", "rejected"]
    reason: str | None = None
    version: int


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
    created: int
    updated: int
    unchanged: int
    skipped: list[str]
