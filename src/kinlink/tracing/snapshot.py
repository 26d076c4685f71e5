"""The registry as a batch engine reads it: every record and sighting and every open request, streamed
in chunks to a writer the engine gives (kinlink.engines.spark writes Parquet), with an audit entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from kinlink.matching.record import MatchRecord
from kinlink.store.audit import AuditLog
from kinlink.store.db import unit_of_work
from kinlink.store.match_records import person_records, request_record
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.requests import OPEN_STATES

# Where each MatchRecord goes: registry records, sightings read from reports, open requests.
Write = Callable[[str, list[MatchRecord]], None]


@dataclass
class Exported:
    records: int = 0
    sightings: int = 0
    requests: int = 0


def export_for_matching(engine: Engine, actor: str, write: Write, chunk: int = 20_000) -> Exported:
    """Stream the matcher's view of the registry to write("records" | "sightings" | "requests", chunk).

    One read transaction (a consistent view on PostgreSQL); the export itself is audited, since it copies
    personal data out of the database (the snapshot's directory must be protected like the database)."""
    out = Exported()
    with unit_of_work(engine) as session:
        buf: dict[str, list[MatchRecord]] = {"records": [], "sightings": []}
        for r in person_records(session):
            part = "sightings" if r.kind == "sighting" else "records"
            buf[part].append(r)
            if len(buf[part]) >= chunk:
                write(part, buf[part])
                buf[part] = []
            setattr(out, part, getattr(out, part) + 1)
        for part, rows in buf.items():
            if rows:
                write(part, rows)
        requests: list[MatchRecord] = []
        for req in session.scalars(
            select(TracingRequest).where(TracingRequest.state.in_(OPEN_STATES)).order_by(TracingRequest.id)
        ):
            requests.append(request_record(req))
            if len(requests) >= chunk:
                write("requests", requests)
                out.requests += len(requests)
                requests = []
        if requests:
            write("requests", requests)
            out.requests += len(requests)
        log = AuditLog(session, actor)
        log.lock()
        log.add(
            "export",
            "match_snapshot",
            None,
            {"records": out.records, "sightings": out.sightings, "requests": out.requests},
        )
        log.flush()
    return out
