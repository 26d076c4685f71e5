"""Tables of tracing: requests from families, match candidates, the matching key index and clusters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kinlink.store.models import Base, utcnow


class TracingRequest(Base):
    """A family's request to find someone: the person sought, the enquirer, a reference and a secret.

    The family follows progress with the reference and the secret; only an argon2 hash of the secret is kept.
    """

    __tablename__ = "tracing_requests"
    __table_args__ = (Index("ix_tracing_requests_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | candidates | matched | closed

    # The person sought: the fields of a record, all optional but a name.
    full_name: Mapped[str] = mapped_column(String(400))
    other_names: Mapped[list | None] = mapped_column(JSON)
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[str | None] = mapped_column(String(10))  # partial ISO
    birth_year_to: Mapped[int | None] = mapped_column(Integer)  # "born 1992-1994"
    age: Mapped[int | None] = mapped_column(Integer)
    age_as_of: Mapped[str | None] = mapped_column(String(10))
    place_of_birth: Mapped[str | None] = mapped_column(String(300))
    rank: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(300))
    service_number: Mapped[str | None] = mapped_column(String(100))
    capture_place: Mapped[str | None] = mapped_column(String(300))
    capture_date: Mapped[str | None] = mapped_column(String(10))
    last_seen: Mapped[str | None] = mapped_column(Text)

    # The enquirer.
    enquirer_name: Mapped[str] = mapped_column(String(400))
    enquirer_relationship: Mapped[str | None] = mapped_column(String(100))
    enquirer_contact: Mapped[str | None] = mapped_column(String(400))
    enquirer_language: Mapped[str | None] = mapped_column(String(10))

    matched_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class MatchCandidate(Base):
    """A possible link for review: a request or a record on one side, a record on the other.

    `pair` ('r12:p345' or 'p7:p345', lower record id first) is unique, so re-running matching updates a
    candidate instead of adding a second one.
    """

    __tablename__ = "match_candidates"
    __table_args__ = (
        UniqueConstraint("pair", name="uq_match_candidates_pair"),
        Index("ix_match_candidates_request", "request_id"),
        Index("ix_match_candidates_person", "person_id"),
        Index("ix_match_candidates_state", "state"),
        # The latest confirmed answers, for a family's "how long it usually takes" (migration 0022).
        Index("ix_match_candidates_decided", "state", "decided_at", "request_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_requests.id", ondelete="CASCADE"))
    left_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    probability: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict] = mapped_column(JSON)
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | confirmed | rejected
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class MatchKey(Base):
    """The candidate index in the database: blocking keys and service numbers of records and requests.

    Looking up a query's keys is an indexed read, never a scan. Keys starting 'tf:' count how common a name
    part is (term frequencies) and are not used for blocking.
    """

    __tablename__ = "match_keys"
    __table_args__ = (
        UniqueConstraint("entity", "entity_id", "key", name="uq_match_keys_entity"),
        # Covering for the lookups (key -> records), so that a search reads only its keys' postings.
        Index("ix_match_keys_lookup", "key", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(1))  # p: person record | r: tracing request
    entity_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))


class MatchKeyScheme(Base):
    """Which derivation of keys the key table holds (row 1): keys written by an older kinlink, whose
    names code derived them otherwise, would no longer meet the keys of new queries. Row 2, once records'
    keys were written, holds the token of their last change (`kinlink.store.match_keys.CHANGES_ROW`)."""

    __tablename__ = "match_key_scheme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PersonCluster(Base):
    """Records (from several sources) taken to be the same person; the links that joined them are kept."""

    __tablename__ = "person_clusters"
    __table_args__ = (Index("ix_person_clusters_cluster", "cluster_id"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(Integer)  # the lowest person id of the cluster
    evidence: Mapped[list | None] = mapped_column(JSON)  # [[other person id, probability, candidate id], ...]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
