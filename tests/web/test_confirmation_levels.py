"""Confirmation levels (issue 21 item 4): every event says how it is known, staff see it on the record page,
the API and the CLI, and a death known only from open sources or a member of the public is not told to a
family as a fact, through the web page and the API: as a report under verification, or not at all, as the
bureau configures."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine, text

from kinlink.accounts import tokens, users
from kinlink.registry import records
from kinlink.store import schema
from kinlink.store.db import make_engine, unit_of_work
from tests.support import MATCHING, Cli, add_record, dead_reported_by_the_public
from tests.web.helpers import Client


def _family_doors(client_for, reference: str, secret: str) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    family: Client = client_for(lang="en")
    assert family.track(reference, secret).status_code == 303
    page = family.get("/family").text
    outcome = page[page.index('<div id="outcome">') : page.index("</div>", page.index('<div id="outcome">'))]
    api = httpx.post(
        str(family.base_url) + "/api/v1/requests/status",
        json={"reference": reference, "secret": secret},
        timeout=30,
    ).json()
    return outcome, api


def test_a_death_reported_only_by_the_public_is_told_as_under_verification(  # type: ignore[no-untyped-def]
    engine: Engine, client_for, server, staff, cli: Cli, monkeypatch
) -> None:
    reference, secret, pid = dead_reported_by_the_public(engine)
    page, api = _family_doors(client_for, reference, secret)
    assert "under verification" in page and "has died" not in page and "Оленівка" not in page
    assert api["stage"] == "death_reported" and api["items"] == {"reported": True, "date": "2024-02-01"}

    # The bureau tells nothing of such reports: both doors say only that the request is being handled.
    monkeypatch.setenv("KINLINK_UNCONFIRMED_DEATHS", "withhold")
    page, api = _family_doors(client_for, reference, secret)
    assert "being handled" in page and "died" not in page and "verification" not in page
    assert api["stage"] == "in_progress" and api["items"] == {}

    # A certificate cannot state it either.
    result = cli("certificate", reference, "-o", "/dev/null", ok=False)
    assert result.exit_code == 2

    # Staff see how each event is known: the record page, the API, the CLI.
    registrar = client_for("registrar")
    record_page = registrar.get(f"/records/{pid}").text
    assert (
        "reported by a member of the public" in record_page
        and "notified by the detaining power" in record_page
    )
    with unit_of_work(engine) as s:
        token = tokens.create_token(s, "t", users.find_user(s, staff["registrar"][0]).id, "lv")[1]
    h = {"authorization": f"Bearer {token}"}
    events = httpx.get(f"{server.url}/api/v1/records/{pid}/events", headers=h, timeout=30).json()
    assert [(e["kind"], e["confirmation"]) for e in events] == [
        ("captured", "detaining_power"),
        ("died", "public"),
    ]
    shown = cli.json("records", "show", str(pid))
    assert [e["confirmation"] for e in shown["events"]] == ["detaining_power", "public"]

    # Documents confirm the death (the API door, naming the level): now it is told as a fact.
    r = httpx.post(
        f"{server.url}/api/v1/records/{pid}/events",
        json={"kind": "died", "date": "2024-02-01", "place": "Оленівка", "confirmation": "documents"},
        headers=h,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    page, api = _family_doors(client_for, reference, secret)
    assert "has died" in page and "Оленівка" in page and api["stage"] == "dead"
    bad = httpx.post(
        f"{server.url}/api/v1/records/{pid}/events",
        json={"kind": "died", "confirmation": "a rumour"},
        headers=h,
        timeout=30,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "confirmation"


def test_the_level_is_translated_on_the_record_page(engine: Engine, client_for) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as s:
        pid = add_record(
            s, "t", {"full_name": "Ткаченко Ігор", "events": [{"kind": "missing", "confirmation": "family"}]}
        ).id
    for lang, words in (
        ("uk", "повідомлено родиною"),
        ("ru", "сообщено семьёй"),
        ("ro", "raportat de familie"),
    ):
        c = client_for("registrar", lang=lang)
        assert words in c.get(f"/records/{pid}").text


def test_existing_events_get_the_level_their_source_implies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Revision 0010 backfills: a report's events are open sources, a partner's the public, a registry's and
    the bureau's own the detaining power."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.upgrade(engine, "0009")
    with engine.begin() as c:
        for i, kind in enumerate(("report", "partner", "registry"), 1):
            c.execute(
                text("INSERT INTO sources (id, name, kind, created_at) VALUES (:i, :n, :k, '2024-01-01')"),
                {"i": i, "n": f"s{i}", "k": kind},
            )
            c.execute(
                text(
                    "INSERT INTO persons (id, source_id, source_record_id, full_name, version, created_at,"
                    " updated_at, consent_inform_family, consent_share_location, consent_share_health,"
                    " consent_share_photo)"
                    " VALUES (:i, :i, 'r', 'X', 1, '2024-01-01', '2024-01-01', 0, 0, 0, 0)"
                ),
                {"i": i},
            )
            c.execute(
                text(
                    "INSERT INTO events (person_id, kind, source_id, created_at)"
                    " VALUES (:i, 'died', :s, '2024-01-01')"
                ),
                {"i": i, "s": i},
            )
        c.execute(
            text("INSERT INTO events (person_id, kind, created_at) VALUES (3, 'captured', '2024-01-01')")
        )
    schema.upgrade(engine)
    with engine.connect() as c:
        levels = c.execute(text("SELECT source_id, confirmation FROM events ORDER BY id")).all()
    assert levels == [(1, "open_source"), (2, "public"), (3, "detaining_power"), (None, "detaining_power")]
    engine.dispose()


@pytest.mark.parametrize("level", ["open_source", "public"])
def test_outcome_by_level_in_the_domain(engine: Engine, level: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kinlink.tracing.disclosure import outcome_of_match

    with unit_of_work(engine) as s:
        pid = records.create_record(
            s,
            "t",
            {"full_name": "Бондар Олег", "events": [{"kind": "died", "date": "2024", "confirmation": level}]},
            matching=MATCHING,
        ).person.id
        records.set_death_disclosure(s, "t", pid, True, False)
        assert outcome_of_match(s, pid).stage == "death_reported"
        monkeypatch.setenv("KINLINK_UNCONFIRMED_DEATHS", "withhold")
        assert outcome_of_match(s, pid).stage == "in_progress"
        records.add_event(s, "t", pid, "buried", "2024", confirmation="icrc_visit", matching=MATCHING)
        assert outcome_of_match(s, pid).stage == "dead"
