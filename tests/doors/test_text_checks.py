"""Text that is not text (a lone surrogate, NUL) and text made to disguise itself (bidi overrides and
isolates) is refused wherever it enters, naming the field and writing nothing; the marks and joiners some
scripts need pass (issue 16, items 9 and 14)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kinlink.accounts import tokens, users
from kinlink.errors import Refused
from kinlink.registry import attachments, reports
from kinlink.registry.search import search_records
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry, Person
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing import messages
from kinlink.tracing.decisions import _checked
from tests.support import MATCHING, MODEL, Cli, add_record

SURROGATE = "\ud800"
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
# Marks and joiners real text needs: Persian and the Indic scripts join with ZWNJ/ZWJ; U+200E/U+200F
# mark the direction of a mixed Hebrew or Arabic line.
LEGITIMATE = "Ткаченко\u200f Оле\u200dна\u200c\u200e"
REQUEST = {"full_name": "Ivan Petrenko", "enquirer_name": "Xy Z", "agree": True, "language": "en"}


@pytest.fixture
def api(engine: Engine, server, staff) -> Iterator[dict[str, httpx.Client]]:  # type: ignore[no-untyped-def]
    """API clients: anonymous, and the registrar's with a token."""
    made = {"anonymous": httpx.Client(base_url=server.url + "/api/v1", timeout=30)}
    with unit_of_work(engine) as s:
        user = users.find_user(s, staff["registrar"][0])
        assert user is not None
        token = tokens.create_token(s, "test", user.id, "text checks")[1]
    made["registrar"] = httpx.Client(
        base_url=server.url + "/api/v1", timeout=30, headers={"authorization": f"Bearer {token}"}
    )
    yield made
    for c in made.values():
        c.close()


def _raw_json(client: httpx.Client, url: str, text: str) -> httpx.Response:
    """A body sent as written: httpx cannot encode a lone surrogate, a JSON escape (\\ud800) can."""
    return client.post(url, content=text.encode("ascii"), headers={"content-type": "application/json"})


def _written(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(m)) or 0 for m in (TracingRequest, Person, AuditEntry)
        )


def test_a_lone_surrogate_in_a_request_is_a_422_naming_the_field(engine: Engine, api) -> None:  # type: ignore[no-untyped-def]
    before = _written(engine)
    r = _raw_json(
        api["anonymous"],
        "/requests",
        '{"full_name":"\\ud800 Ivan","enquirer_name":"Xy Z","agree":true,"language":"en"}',
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "full_name"
    assert "U+D800" in r.json()["error"]["message"]
    assert _written(engine) == before


def test_a_lone_surrogate_in_a_record_is_a_422_naming_the_field(engine: Engine, api) -> None:  # type: ignore[no-untyped-def]
    before = _written(engine)
    r = _raw_json(api["registrar"], "/records", '{"record_id":"S-1","full_name":"Ivan","notes":"\\ud800"}')
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "notes"
    assert _written(engine) == before


@pytest.mark.parametrize(
    "body",
    [
        '{"\\ud800": 1, "full_name": "Ivan", "enquirer_name": "Xy Z", "agree": true}',  # the key itself
        '{"full_name": ["\\udfff"], "enquirer_name": "Xy Z", "agree": true}',  # inside a list
        '{"full_name": ' + "[" * 5000 + "]" * 5000 + ', "enquirer_name": "Xy Z", "agree": true}',
        '{"full_name": "\\u202e", "enquirer_name": "' + "\\ud83d" * 100 + '", "agree": true}',
    ],
)
def test_the_api_parses_any_json_body_without_a_server_error(engine: Engine, api, body: str) -> None:  # type: ignore[no-untyped-def]
    before = _written(engine)
    r = _raw_json(api["anonymous"], "/requests", body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]["message"]
    assert _written(engine) == before


@pytest.mark.parametrize("char", BIDI)
@pytest.mark.parametrize("field", ["full_name", "last_seen", "enquirer_name", "contact"])
def test_bidi_controls_in_a_request_are_refused_through_the_api(  # type: ignore[no-untyped-def]
    engine: Engine, api, field: str, char: str
) -> None:
    before = _written(engine)
    value = {"contact": f"anna{char}@example.org"}.get(field, f"Ivan {char}Petrenko")
    r = api["anonymous"].post("/requests", json={**REQUEST, field: value})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert f"U+{ord(char):04X}" in r.json()["error"]["message"]
    assert _written(engine) == before


def test_marks_and_joiners_are_text_and_pass(engine: Engine, api, client_for, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    r = api["anonymous"].post("/requests", json={**REQUEST, "full_name": LEGITIMATE, "last_seen": "\u200e"})
    assert r.status_code == 201, r.text
    page = client_for().form("/request", {**REQUEST, "full_name": LEGITIMATE, "agree": "on"})
    assert page.status_code == 200, page.text
    out = cli("request", "add", LEGITIMATE, "--enquirer", "Xy Z", "--agreed", "--language", "en", "--json")
    assert json.loads(out.stdout)["reference"]
    with Session(engine) as s:
        names = list(s.scalars(select(TracingRequest.full_name)))
    assert names == [LEGITIMATE] * 3


@pytest.mark.parametrize("char", ["\u202e", "\u2067", "\x00"])
def test_bidi_controls_in_a_request_are_refused_on_the_web_form(  # type: ignore[no-untyped-def]
    engine: Engine, client_for, char: str
) -> None:
    before = _written(engine)
    r = client_for().form("/request", {**REQUEST, "full_name": f"Ivan{char} Petrenko", "agree": "on"})
    assert r.status_code == 422, r.text
    assert re.search(rf"full_name: .*U\+{ord(char):04X}", r.text), r.text
    assert _written(engine) == before


@pytest.mark.parametrize("char", [SURROGATE, "\udc80", "\u202e", "\u2066", "\x1b"])
def test_the_cli_refuses_such_text_naming_the_field(engine: Engine, cli: Cli, char: str) -> None:
    before = _written(engine)
    result = cli("request", "add", f"{char} Ivan", "--enquirer", "Xy Z", "--agreed", ok=False)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("full_name:") and f"U+{ord(char):04X}" in result.output
    result = cli("request", "add", "Ivan", "--enquirer", "Xy Z", "--unit", f"3{char}", "--agreed", ok=False)
    assert result.exit_code == 2 and result.output.startswith("unit:"), result.output
    assert _written(engine) == before


@pytest.mark.parametrize("char", [SURROGATE, "\u202e", "\x00"])
def test_every_other_text_the_domain_takes_is_checked(engine: Engine, char: str) -> None:
    """Messages, reasons, accounts, sightings, search text, attachments' names and notes: refused by the
    domain function itself, so that every door refuses them."""
    with unit_of_work(engine) as s:
        person = add_record(s, "test", {"full_name": "Ivan Petrenko"})
        pid = person.id
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    actions = {
        "body": lambda s: messages._body(f"alive{char}"),
        "reason": lambda s: _checked("confirmed", f"same{char}"),
        "password": lambda s: users.create_user(s, "test", "ivan", f"long password{char}", "caseworker"),
        "display_name": lambda s: users.create_user(
            s, "test", "ivan", "long password here", "caseworker", f"I{char}"
        ),
        "source": lambda s: reports.add_sighting(
            s, "test", {"source": f"tg{char}", "full_name": "Ivan", "status": "captured"}, matching=MATCHING
        ),
        "full_name": lambda s: reports.add_sighting(
            s, "test", {"source": "tg", "full_name": f"Ivan{char}", "status": "captured"}, matching=MATCHING
        ),
        "q": lambda s: search_records(s, "test", "search", f"Ivan{char}", model=MODEL),
        "file": lambda s: attachments.add(s, "test", pid, "photo", f"face{char}.png", png, 1 << 20),
        "note": lambda s: attachments.add(s, "test", pid, "photo", "face.png", png, 1 << 20, f"n{char}"),
    }
    for field, action in actions.items():
        before = _written(engine)
        with pytest.raises(Refused) as refused, unit_of_work(engine) as s:
            action(s)
        assert refused.value.kind == "invalid" and refused.value.field == field, (field, refused.value)
        assert f"U+{ord(char):04X}" in str(refused.value), field
        assert _written(engine) == before, field


def test_tabs_and_line_breaks_only_in_multi_line_text(engine: Engine, api, cli: Cli, write) -> None:  # type: ignore[no-untyped-def]
    """A name, a unit, a date are one line (a break at their ends is stripped); a note, a last-seen account
    or an address may have several."""
    before = _written(engine)
    for field in ("full_name", "enquirer_name", "unit"):
        for char in ("\n", "\t", "\r"):
            r = api["anonymous"].post("/requests", json={**REQUEST, field: f"Ivan{char}Petrenko"})
            assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
    assert _written(engine) == before
    r = api["anonymous"].post(
        "/requests", json={**REQUEST, "full_name": " Ivan Petrenko\n", "last_seen": "Izium,\n\tMarch 2022"}
    )
    assert r.status_code == 201, r.text
    r = api["registrar"].post("/records", json={"record_id": "T-1", "full_name": "Ivan\nPetrenko"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "full_name", r.text
    r = api["registrar"].post(
        "/records",
        json={"record_id": "T-2", "full_name": "Ivan", "notes": "one\ntwo", "inform_address": "a\nb"},
    )
    assert r.status_code == 201, r.text
    text = 'record_id,full_name,notes\nT-3,"Ivan\nPetrenko",\nT-4,Ivan,"line one\nline two"\n'
    result = cli("import", "registry", str(write("t.csv", text)), "--source", "b", "--skip-invalid", ok=False)
    assert "t.csv:2: full_name: contains a control character (U+000A)" in result.output, result.output
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Person).where(Person.source_record_id == "T-4")) == 1
