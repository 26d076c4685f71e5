"""A family is told whether its reference and secret are really being e-mailed: with no SMTP server, the
page and the API say no email is coming, so that the family writes them down."""

from __future__ import annotations

from sqlalchemy import Engine, select

from kinlink.http.settings import Settings
from kinlink.server.run import BackgroundServer
from kinlink.store.casework_models import Notification
from kinlink.store.db import unit_of_work
from kinlink.tracing.mail import MailSettings
from tests.web.helpers import Client, Mailbox

ASKED = {"full_name": "Коваль Ігор", "enquirer_name": "Коваль Ліда", "contact": "lida@example.org"}
FORM = {**ASKED, "agree": "on"}
BODY = {**ASKED, "agree": True}
NO_EMAIL = "No email will be sent"


def test_without_a_mail_server_nobody_is_told_an_email_is_coming(engine: Engine) -> None:
    no_mail = Settings(secret_key="x", mail=MailSettings(host=None))
    with BackgroundServer(engine, no_mail) as srv, Client(srv.url) as c:
        page = c.form("/request", FORM)
        assert page.status_code == 200
        assert NO_EMAIL in page.text and "We are also sending them" not in page.text
        r = c.post("/api/v1/requests", json=BODY)
        assert r.status_code == 201 and r.json()["emailed"] is False
    with unit_of_work(engine) as s:
        states = [n.state for n in s.scalars(select(Notification))]
    assert states == ["skipped", "skipped"]


def test_with_a_mail_server_the_family_is_told_and_the_email_arrives(engine: Engine) -> None:
    with Mailbox().running() as mailbox:
        settings = Settings(secret_key="x", mail=MailSettings(host="127.0.0.1", port=mailbox.port))
        with BackgroundServer(engine, settings) as srv, Client(srv.url) as c:
            page = c.form("/request", FORM)
            assert "We are also sending them" in page.text and NO_EMAIL not in page.text
            r = c.post("/api/v1/requests", json=BODY)
            assert r.json()["emailed"] is True
            mailbox.wait_for(2)
    # Without an address nothing is promised, and nothing warned about.
    no_mail = Settings(secret_key="x", mail=MailSettings(host=None))
    with BackgroundServer(engine, no_mail) as srv, Client(srv.url) as c:
        page = c.form("/request", {k: v for k, v in FORM.items() if k != "contact"})
        assert NO_EMAIL not in page.text and "We are also sending them" not in page.text
