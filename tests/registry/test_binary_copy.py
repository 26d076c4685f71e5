"""An import's rows sent by COPY in PostgreSQL's binary format (kinlink.store.bulk, `typed`) are stored as
the text format stored them; a boolean column holding anything but booleans goes as text (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from kinlink.store import bulk
from kinlink.store.models import Event, Person, Source

HARD_TEXTS = ["back\\slash", "tab\there", "new\nline", "\\N", 'a "quote"', "Олені\\вка\r\n", "", None, "😀"]
COLUMNS = (
    "id",
    "source_id",
    "source_record_id",
    "full_name",
    "notes",
    "age",
    "consent_inform_family",
    "consent_share_location",
    "consent_share_health",
    "consent_share_photo",
    "version",
    "created_at",
    "updated_at",
)
WHEN = datetime(2026, 12, 7, 22, 15, 1, 123456, tzinfo=UTC)


def _persons(n: int, first_id: int, source_id: int, consent: list[Any]) -> list[list[Any]]:
    ids = list(range(first_id, first_id + n))
    notes = [HARD_TEXTS[i % len(HARD_TEXTS)] for i in range(n)]
    return [
        ids,
        [source_id] * n,
        [f"R{i}" for i in ids],
        [f"Іван {i}" for i in range(n)],
        notes,
        [i if i % 3 else None for i in range(n)],
        consent,
        [True] * n,
        [False] * n,
        [False] * n,
        [1] * n,
        [WHEN] * n,
        [WHEN] * n,
    ]


def _stored(pg: Engine, ids: range) -> list[tuple[Any, ...]]:
    with pg.connect() as conn:
        rows = conn.execute(
            select(*(Person.__table__.c[c] for c in COLUMNS[3:]))
            .where(Person.id.in_(ids))
            .order_by(Person.id)
        ).all()
    return [tuple(r) for r in rows]


def test_a_binary_copy_stores_what_a_text_copy_stored(pg: Engine) -> None:
    with pg.begin() as conn:
        source_id = conn.execute(
            Source.__table__.insert().values(name="s", kind="registry")
        ).inserted_primary_key[0]
        bulk.write_columns(
            conn, Person.__table__, COLUMNS, _persons(9, 1, source_id, [True, False, False] * 3)
        )
        bulk.write_columns(
            conn, Person.__table__, COLUMNS, _persons(9, 101, source_id, [True, False, False] * 3), typed=True
        )
        events = [
            (pid, "captured", "2022-05", text, source_id, "detaining_power", WHEN)
            for pid, text in zip(range(1, 10), HARD_TEXTS, strict=True)
        ]
        columns = ("person_id", "kind", "date", "place", "source_id", "confirmation", "created_at")
        bulk.write_values(conn, Event.__table__, columns, events)
        bulk.write_values(
            conn, Event.__table__, columns, [(pid + 100, *rest) for pid, *rest in events], typed=True
        )
    assert _stored(pg, range(101, 110)) == _stored(pg, range(1, 10))
    assert _stored(pg, range(101, 110))[0][-1] == WHEN  # (to the microsecond)
    with pg.connect() as conn:
        places = conn.execute(
            select(Event.person_id, Event.place, Event.created_at).order_by(Event.person_id)
        ).all()
    assert [(p, c) for _pid, p, c in places[:9]] == [(p, c) for _pid, p, c in places[9:]]


def test_a_boolean_column_holding_text_goes_as_text(pg: Engine) -> None:
    """PostgreSQL reads the text 'false' as false; psycopg's binary dumper would take it by its truth."""
    with pg.begin() as conn:
        source_id = conn.execute(
            Source.__table__.insert().values(name="s", kind="registry")
        ).inserted_primary_key[0]
        bulk.write_columns(
            conn, Person.__table__, COLUMNS, _persons(3, 1, source_id, ["false", "true", "0"]), typed=True
        )
    assert [row[3] for row in _stored(pg, range(1, 4))] == [False, True, False]
