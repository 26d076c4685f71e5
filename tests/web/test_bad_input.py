"""Bad input at the web and API doors: oversized uploads are refused early with a 413, hostile file names
and malformed bodies with a clear error, HTML in names and notes is shown as text; nothing is written."""

from __future__ import annotations

import re
import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from kinlink.accounts import tokens, users
from kinlink.http.settings import Settings
from kinlink.server.run import BackgroundServer
from kinlink.store.casework_models import Attachment
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry, Person
from kinlink.store.tracing_models import TracingRequest
from tests.support import add_record, counts
from tests.web.helpers import Client

LIMIT = 256 * 1024  # the upload limit of the server below, small so that the test sends little
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SCRIPT = "<script>alert('kinlink')</script>"


@pytest.fixture
def small(engine: Engine, staff) -> Iterator[BackgroundServer]:  # type: ignore[no-untyped-def]
    with BackgroundServer(engine, Settings(secret_key="t", max_upload_bytes=LIMIT)) as srv:
        yield srv


@pytest.fixture
def token(engine: Engine, staff) -> str:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as s:
        return tokens.create_token(s, "t", users.find_user(s, staff["registrar"][0]).id, "t")[1]


@pytest.fixture
def person_id(engine: Engine) -> int:
    with unit_of_work(engine) as s:
        return add_record(s, "test", {"full_name": "Левченко Ігор"}).id


def _written(engine: Engine) -> tuple[int, int]:
    """Attachments, and audit entries about attachments."""
    with Session(engine) as s:
        files = s.scalar(sql_select(func.count(Attachment.id))) or 0
        entries = (
            s.scalar(sql_select(func.count(AuditEntry.id)).where(AuditEntry.entity == "attachment")) or 0
        )
    return files, entries


def _multipart(filename: bytes, data: bytes, fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    """A multipart body written byte by byte: clients escape odd file names, hostile ones do not."""
    boundary = "kinlinkboundary7d1"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in (fields or {}).items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _response_while_sending(url: str, head: bytes, body: Iterator[bytes]) -> tuple[bytes, int]:
    """Send the head, then the body piece by piece until the server answers; (answer, body bytes sent)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sent = 0
    try:
        sock.sendall(head)
        for piece in body:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered before the body was all sent
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
            time.sleep(0.001)  # a network's pace, so that an early answer is seen early
        answer = b""
        deadline = time.monotonic() + 30
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer, sent
    finally:
        sock.close()


def test_an_oversized_upload_is_refused_before_it_is_read(engine: Engine, small, token, person_id) -> None:  # type: ignore[no-untyped-def]
    api = f"/api/v1/records/{person_id}/attachments"
    auth = f"authorization: Bearer {token}\r\n"
    before = _written(engine)

    # Content-Length says 50 MB: the 413 comes at once, long before 50 MB could be sent (what was sent
    # meanwhile sits in the loopback's buffers, a few MB at most).
    head = (
        f"POST {api} HTTP/1.1\r\nhost: x\r\n{auth}content-type: multipart/form-data; boundary=b\r\n"
        f"content-length: {50 * 1024 * 1024}\r\n\r\n"
    ).encode()
    answer, sent = _response_while_sending(small.url, head, iter([b"x" * 65536] * 800))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 10 * 1024 * 1024

    # No length given (chunked): refused as soon as the bytes received pass the limit.
    head = (
        f"POST {api} HTTP/1.1\r\nhost: x\r\n{auth}content-type: multipart/form-data; boundary=b\r\n"
        "transfer-encoding: chunked\r\n\r\n"
    ).encode()
    start = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n' + PNG

    def chunks() -> Iterator[bytes]:
        yield b"%x\r\n%s\r\n" % (len(start), start)
        for _ in range(800):
            yield b"%x\r\n%s\r\n" % (65536, b"y" * 65536)

    answer, sent = _response_while_sending(small.url, head, chunks())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 10 * 1024 * 1024

    # Over the limit by a little: the whole answer, JSON naming the field.
    r = httpx.post(
        small.url + api,
        headers={"authorization": f"Bearer {token}"},
        files={"file": ("big.png", PNG + b"\x00" * (LIMIT + 4096))},
        data={"kind": "photo"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["field"] == "file" and "larger than" in r.json()["error"]["message"]
    r = httpx.post(
        small.url + api,
        headers={"authorization": f"Bearer {token}"},
        files={"file": ("big.png", PNG + b"\x00" * (2 * LIMIT))},
        data={"kind": "photo"},
    )
    assert r.status_code == 413 and r.json()["error"]["field"] == "file"
    assert _written(engine) == before

    # The same on the registrar's page.
    reg = Client(small.url)
    try:
        reg.sign_in(*_registrar(engine))
        for size in (LIMIT + 4096, 2 * LIMIT):
            r = reg.post(
                f"/records/{person_id}/attachments",
                data={"csrf_token": reg.csrf(), "kind": "photo"},
                files={"file": ("big.png", PNG + b"\x00" * size)},
            )
            assert r.status_code == 413 and "larger than" in r.text
    finally:
        reg.close()
    assert _written(engine) == before


def _registrar(engine: Engine) -> tuple[str, str]:
    from kinlink.accounts.demo import demo_accounts

    return next((u, p) for role, u, p in demo_accounts(engine) if role == "registrar")


HOSTILE_NAMES = [
    (b"../../etc/passwd.png", "a path (/)"),
    (b"..\\..\\boot.png", "a path (\\)"),
    (b"face\x00.php.png", "control character (U+0000)"),
    (b"\x1b[31mred.png", "control character (U+001B)"),
    (("я" * 250 + ".png").encode(), "longer than 200 characters"),
    (b"<img src=x onerror=alert(1)>.png", "contains a <"),
    (b'a\\"; x=\\"y.png', "a quote"),
    (b".htaccess", "starts with a dot"),
]


def test_hostile_file_names_are_refused(engine: Engine, server, token, staff, person_id) -> None:  # type: ignore[no-untyped-def]
    before = _written(engine)
    reg = Client(server.url)
    try:
        reg.sign_in(*staff["registrar"])
        for name, reason in HOSTILE_NAMES:
            body, ctype = _multipart(name, PNG, {"kind": "photo"})
            r = httpx.post(
                f"{server.url}/api/v1/records/{person_id}/attachments",
                content=body,
                headers={"authorization": f"Bearer {token}", "content-type": ctype},
            )
            assert r.status_code == 422, (name, r.text)
            assert r.json()["error"]["field"] == "file" and reason in r.json()["error"]["message"], name

            body, ctype = _multipart(name, PNG, {"kind": "photo", "csrf_token": reg.csrf()})
            r = reg.post(f"/records/{person_id}/attachments", content=body, headers={"content-type": ctype})
            assert r.status_code == 422, name
            assert reason in r.text.replace("&lt;", "<").replace("&#34;", '"'), name
            assert "<img src=x" not in r.text
    finally:
        reg.close()
    assert _written(engine) == before


def test_a_plain_name_in_any_script_is_kept_and_served(engine: Engine, server, token, person_id) -> None:  # type: ignore[no-untyped-def]
    auth = {"authorization": f"Bearer {token}"}
    r = httpx.post(
        f"{server.url}/api/v1/records/{person_id}/attachments",
        files={"file": ("фото полонений 1.png", PNG)},
        data={"kind": "photo"},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    got = httpx.get(f"{server.url}/api/v1/attachments/{r.json()['id']}", headers=auth)
    assert got.status_code == 200 and got.content == PNG
    # Headers are Latin-1: the name travels encoded (RFC 6266), with an ASCII fallback.
    assert "filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE" in got.headers["content-disposition"]


def test_markup_in_a_name_is_refused_naming_the_field(engine: Engine, client_for, staff, token) -> None:  # type: ignore[no-untyped-def]
    before = counts(engine)
    registrar = client_for("registrar")
    r = registrar.form("/records/new", {"full_name": f"{SCRIPT}Гаврилюк Степан", "status": "captured"})
    assert r.status_code == 422 and "full_name" in r.text and "&#39;&lt;&#39;" in r.text
    assert "<script>alert" not in r.text
    family = client_for()
    r = family.form(
        "/request", {"full_name": "Гаврилюк Степан", "enquirer_name": "<b>Марія</b>", "agree": "on"}
    )
    assert r.status_code == 422 and "enquirer_name" in r.text
    api = httpx.Client(
        base_url=f"{str(registrar.base_url).rstrip('/')}/api/v1", headers={"authorization": f"Bearer {token}"}
    )
    r = api.post("/records", json={"record_id": "X-1", "full_name": "Петро {{7*7}} Іваненко"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "full_name"
    api.close()
    with Session(engine) as s:
        assert s.scalar(sql_select(func.count(TracingRequest.id))) == 0
    assert counts(engine) == before


def test_html_in_notes_is_shown_as_text(engine: Engine, client_for, staff) -> None:  # type: ignore[no-untyped-def]
    registrar = client_for("registrar")
    r = registrar.form(
        "/records/new",
        {
            "full_name": "Гаврилюк Степан Іванович",
            "birth_date": "1990",
            "notes": f'<img src=x onerror="alert(1)"> {SCRIPT} примітка',
            "distinguishing_marks": "</textarea><script>alert(2)</script>",
            "status": "captured",
            "status_date": "2023-02-01",
        },
    )
    assert r.status_code == 303, r.text
    pid = int(r.headers["location"].rsplit("/", 1)[1].split("?")[0])
    family = client_for()
    r = family.form(
        "/request",
        {
            "full_name": "Гаврилюк Степан Іванович",
            "birth_date": "1990",
            "enquirer_name": "Гаврилюк Марія",
            "last_seen": "<iframe src=//evil.example></iframe><script>alert(3)</script>",
            "agree": "on",
        },
    )
    assert r.status_code == 200 and "<script>alert" not in r.text
    caseworker = client_for("caseworker")
    queue = caseworker.get("/queue").text
    candidate = re.search(r'href="/candidates/(\d+)"', queue)
    assert candidate, "the matcher proposed no candidate"
    with Session(engine) as s:
        request_id = s.scalar(
            sql_select(func.max(AuditEntry.entity_id)).where(AuditEntry.entity == "tracing_request")
        )
    shown = [  # pages that show the notes, marks or what the family wrote
        registrar.get(f"/records/{pid}"),
        registrar.get(f"/records/{pid}/edit"),
        caseworker.get(f"/candidates/{candidate.group(1)}"),
        caseworker.get(f"/cases/{request_id}"),
    ]
    listed = [
        registrar.get("/records", params={"q": "Гаврилюк"}),
        caseworker.get("/queue"),
        caseworker.get("/cases"),
    ]
    assert "Гаврилюк" in listed[0].text
    for page in shown + listed:
        assert page.status_code == 200, page.url
        text = page.text
        for raw in ("<script>alert", "<img src=x", "<iframe", "</textarea><script"):
            assert raw not in text, (page.url, raw)
        assert "script-src 'none'" in page.headers["content-security-policy"]
    for page in shown:
        assert "&lt;script&gt;" in page.text, page.url
    with Session(engine) as s:
        person = s.get(Person, pid)
        assert (
            person is not None and person.notes and SCRIPT in person.notes
        )  # kept as written, shown as text


def test_malformed_bodies_get_a_clear_error_and_write_nothing(engine: Engine, server, token) -> None:  # type: ignore[no-untyped-def]
    auth = {"authorization": f"Bearer {token}"}
    url = server.url + "/api/v1"
    with Session(engine) as s:
        persons, entries = (
            s.scalar(sql_select(func.count(Person.id))),
            s.scalar(sql_select(func.count(AuditEntry.id))),
        )
    json_body = {**auth, "content-type": "application/json"}
    cases = [
        ("/records", b'{"full_name": "\xd0\x86\xd0\xb2\xd0\xb0\xd0\xbd", ', json_body, 422, "JSON"),
        ("/records", b"[1, 2, 3]", json_body, 422, None),
        ("/records", b"\xff\xfe not utf-8", json_body, 422, None),
        ("/records", b'{"full_name": "\\u0000"}', json_body, 422, "control character"),
        ("/records", b'{"full_name": "Ok", "age": 10000000000000000000000}', json_body, 422, None),
        ("/requests/status", b'{"reference": 1}', json_body, 422, None),
        ("/pfif", b"<pfif:pfif xmlns:pfif='http://zesty.ca/pfif/1.4'><pfif:person>", auth, 422, "XML"),
        (
            "/pfif",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>',
            auth,
            422,
            None,
        ),
    ]
    for path, body, headers, status, words in cases:
        r = httpx.post(url + path, content=body, headers=headers)
        assert r.status_code == status, (path, body, r.status_code, r.text)
        error = r.json()["error"]
        assert error["message"], (path, body)
        if words:
            assert words in error["message"] or any(words in e["message"] for e in error["errors"]), error
    with Session(engine) as s:
        assert s.scalar(sql_select(func.count(Person.id))) == persons
        assert s.scalar(sql_select(func.count(AuditEntry.id))) == entries
