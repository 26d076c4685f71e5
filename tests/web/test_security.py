"""Cookies, rate limits, codes and secrets kept out of URLs and logs, private files."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import Engine

from kinlink.http.settings import Settings
from kinlink.server.run import BackgroundServer
from kinlink.store.db import unit_of_work
from kinlink.tracing.mail import MailSettings
from tests.support import add_record, file_request
from tests.web.helpers import Client, csrf_of


def _cookie_attrs(response, name: str) -> str:  # type: ignore[no-untyped-def]
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header.lower()
    raise AssertionError(f"no {name} cookie set")


def test_session_cookie_flags(server, staff) -> None:  # type: ignore[no-untyped-def]
    c = Client(server.url)
    try:
        r = c.form("/login", {"username": staff["registrar"][0], "password": staff["registrar"][1]})
        attrs = _cookie_attrs(r, "kl_session")
        assert "httponly" in attrs and "samesite=lax" in attrs
        assert "secure" not in attrs  # plain HTTP on loopback
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    finally:
        c.close()


def test_cookies_are_secure_behind_tls(engine: Engine, staff) -> None:  # type: ignore[no-untyped-def]
    with (
        BackgroundServer(engine, Settings(secret_key="x", secure_cookies=True)) as srv,
        httpx.Client(base_url=srv.url) as c,
    ):
        r = c.get("/login")
        seed_cookie = _cookie_attrs(r, "kl_csrf")
        assert "; secure" in seed_cookie and "httponly" in seed_cookie
        # httpx, like a browser, keeps Secure cookies off plain HTTP: send it by hand to go on.
        seed = r.headers["set-cookie"].split("kl_csrf=", 1)[1].split(";", 1)[0]
        r = c.post(
            "/login",
            headers={"cookie": f"kl_csrf={seed}"},
            data={
                "csrf_token": csrf_of(r.text),
                "username": staff["admin"][0],
                "password": staff["admin"][1],
            },
        )
        assert r.status_code == 303
        assert "; secure" in _cookie_attrs(r, "kl_session")
        assert r.headers["strict-transport-security"].startswith("max-age=")


def test_guessing_a_secret_is_rate_limited_but_never_the_family(engine: Engine, server) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as s:
        req, secret = file_request(
            s,
            "test",
            {"full_name": "Коваль Ігор", "enquirer_name": "Коваль Ліда", "agree": "on"},
            match=False,
        )
        reference = req.reference
    limit = server.app.state.settings.quotas.family_failures_per_ip
    c = Client(server.url)
    try:
        for n in range(limit):
            ref = reference if n % 2 else f" {reference.lower()} "
            r = c.track(ref, "wrong-secret")
            assert r.status_code == 200 and "wrong" in r.text
        # The guesser's address is now throttled, told how long to wait...
        r = c.track("TR-CCCC-DDDD", "nope")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "min" in r.text
        r = c.post("/api/v1/requests/status", json={"reference": reference, "secret": "nope"})
        assert r.status_code == 429 and r.json()["error"]["message"].startswith("too many")
        assert int(r.headers["retry-after"]) > 0
        # ...but the right secret is always accepted, on the page and through the API.
        assert c.track(reference, secret).status_code == 303
        r = c.post("/api/v1/requests/status", json={"reference": reference, "secret": secret})
        assert r.status_code == 200 and r.json()["reference"] == reference
    finally:
        c.close()


def test_codes_and_secrets_only_in_post_bodies(server) -> None:  # type: ignore[no-untyped-def]
    c = Client(server.url)
    try:
        # A GET with the credentials in the query does nothing (and is not even a route).
        r = c.get("/track", params={"reference": "TR-AAAA-BBBB", "secret": "x"})
        assert r.status_code == 200 and "kl_session" not in r.headers.get("set-cookie", "")
        # No API operation takes a reference or a secret in its path or query.
        spec = c.get("/openapi.json").json()
        params = [
            p for ops in spec["paths"].values() for op in ops.values() for p in op.get("parameters", [])
        ]
        assert params and not [p for p in params if p["name"] in ("reference", "secret", "code")]
        assert set(spec["paths"]["/api/v1/requests/status"]) == {"post"}
    finally:
        c.close()


def test_no_personal_data_in_logs(engine: Engine, staff, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    name = "Пактишев"
    with unit_of_work(engine) as s:
        add_record(s, "test", {"full_name": f"{name} Леонид", "status": "captured"})
        req, secret = file_request(
            s,
            "test",
            {
                "full_name": f"{name} Леонид",
                "enquirer_name": "Анна",
                "contact": "anna@example.org",
                "agree": "on",
            },
            match=False,
        )
    with BackgroundServer(
        engine, Settings(secret_key="x", mail=MailSettings(host="127.0.0.1", port=1)), log_level="info"
    ) as srv:
        access = logging.getLogger("uvicorn.access")
        access.addHandler(caplog.handler)
        caplog.set_level(logging.DEBUG)
        try:
            c = Client(srv.url)
            c.sign_in(*staff["caseworker"])
            assert name in c.get("/records", params={"q": name}).text
            c.track(req.reference, secret)
            c.get("/family")
            Client(srv.url).form(
                "/request",
                {
                    "full_name": f"{name} Олег",
                    "enquirer_name": "Анна",
                    "contact": "anna@example.org",
                    "agree": "on",
                },
            )
            c.close()
        finally:
            access.removeHandler(caplog.handler)
    # What the server logged (the test's own HTTP client logs its URLs too: that is not the server's log).
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(r.getMessage() for r in server_side)
    assert "GET /records" in text and "POST /track" in text  # the access log was captured
    for secret_thing in (name, "Анна", "anna@example.org", req.reference, secret, "127.0.0.1:", "?q="):
        assert secret_thing not in text


def test_files_are_served_only_to_staff(engine: Engine, server, staff) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as s:
        pid = add_record(s, "test", {"full_name": "Фото Тест"}).id
    reg = Client(server.url)
    try:
        reg.sign_in(*staff["registrar"])
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
        r = reg.post(
            f"/records/{pid}/attachments",
            data={"csrf_token": reg.csrf(), "kind": "photo"},
            files={"file": ("face.png", png, "image/png")},
        )
        assert r.status_code == 303
        # Content is checked, not the declared type.
        r = reg.post(
            f"/records/{pid}/attachments",
            data={"csrf_token": reg.csrf(), "kind": "photo"},
            files={"file": ("x.png", b"<script>alert(1)</script>", "image/png")},
        )
        assert r.status_code == 422 and "only JPEG" in r.text
        page = reg.get(f"/records/{pid}").text
        att = page.split('href="/attachments/')[1].split('"')[0]
        r = reg.get(f"/attachments/{att}")
        assert r.status_code == 200 and r.content == png and r.headers["content-type"] == "image/png"
        anon = Client(server.url)
        r = anon.get(f"/attachments/{att}")
        anon.close()
        assert r.status_code == 303 and r.headers["location"] == f"/login?next=%2Fattachments%2F{att}"
    finally:
        reg.close()
