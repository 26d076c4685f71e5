"""A family is told nothing beyond "your request is being handled" until a caseworker has recorded how its
enquirer was verified, through every family door: the status page, the photo, the messages, the API's
status call, the emails and the certificate. The audit shows the verification and the disclosures made
under it; a withdrawn verification closes every door again."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kinlink.accounts import tokens, users
from kinlink.matching.model import load_model
from kinlink.registry import attachments
from kinlink.store.casework_models import Disclosure, EnquirerVerification, Notification
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.decisions import decide
from kinlink.tracing.disclosure import outcome_for
from kinlink.tracing.requests import set_state
from kinlink.tracing.verification import record_verification, withdraw_verification
from tests.support import Cli, add_record, file_request
from tests.web.helpers import Client, Mailbox

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HELD_AT = "Табір №4, Оленівка"


@pytest.fixture
def caseworker_api(engine: Engine, server, staff):  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as s:
        token = tokens.create_token(s, "test", users.find_user(s, staff["caseworker"][0]).id, "v")[1]
    with httpx.Client(
        base_url=server.url + "/api/v1", timeout=30, headers={"authorization": f"Bearer {token}"}
    ) as c:
        yield c


def _confirmed(engine: Engine) -> tuple[int, str, str, int]:
    """A match confirmed for a family with an email, the person consenting to everything: (request id,
    reference, secret, person id)."""
    with unit_of_work(engine) as s:
        person = add_record(
            s,
            "test",
            {
                "full_name": "Гончаренко Василь Петрович",
                "birth_date": "1987-03-09",
                "status": "captured",
                "location": HELD_AT,
                "consent_inform_family": True,
                "consent_share_location": True,
                "consent_share_health": True,
                "consent_share_photo": True,
            },
        )
        attachments.add(s, "test", person.id, "photo", "face.png", PNG, 1 << 20)
        req, secret = file_request(
            s,
            "test",
            {
                "full_name": "Гончаренко Василий Петрович",
                "birth_date": "1987",
                "enquirer_name": "Гончаренко Олена",
                "contact": "olena@example.org",
                "agree": True,
            },
        )
        cand = s.scalar(select(MatchCandidate).where(MatchCandidate.request_id == req.id))
        assert cand is not None and cand.person_id == person.id
        decide(s, "test", cand.id, "confirmed", "same birth date", cand.version, model=load_model())
        return req.id, req.reference, secret, person.id


def _doors(family: Client, reference: str, secret: str) -> dict[str, object]:
    """What every family door says now."""
    page = family.get("/family")
    assert page.status_code == 200
    main = page.text[page.text.index("<main") : page.text.index("</main>")]
    # Whom each family asked for, and how it is reached, are its own: the rest must be the same.
    main = re.sub(r'<dl class="facts" id="asked">.*?</dl>|<p id="told">.*?</p>', "", main, flags=re.S)
    api = httpx.post(
        str(family.base_url) + "/api/v1/requests/status",
        json={"reference": reference, "secret": secret},
        timeout=30,
    ).json()
    return {
        "page": re.sub(r"TR-[0-9A-Z]{4}-[0-9A-Z]{4}", "TR-…", main),
        "photo": family.get("/family/photo").status_code,
        "message": family.form("/family/messages", {"body": "Ми чекаємо на тебе."}).status_code,
        "api": {k: v for k, v in api.items() if k != "reference"},
    }


def test_nothing_beyond_being_handled_through_any_family_door_until_verified(  # type: ignore[no-untyped-def]
    engine: Engine, client_for, cli: Cli, caseworker_api, mailbox: Mailbox, tmp_path, monkeypatch
) -> None:
    # The CLI sends what it queues through the test's mail server.
    monkeypatch.setenv("KINLINK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("KINLINK_SMTP_PORT", str(mailbox.port))
    rid, reference, secret, _pid = _confirmed(engine)
    family = client_for(lang="uk")
    assert family.track(reference, secret).status_code == 303
    before = _doors(family, reference, secret)
    # A family whose request nobody has matched: the same, word for word.
    other_ref, other_secret = file_unmatched(engine)
    other = client_for(lang="uk")
    assert other.track(other_ref, other_secret).status_code == 303
    assert _doors(other, other_ref, other_secret) == before

    assert "Ваш запит опрацьовується" in str(before["page"]) and 'id="verification-note"' in str(
        before["page"]
    )
    assert HELD_AT not in str(before["page"]) and "знайдено" not in str(before["page"])
    assert before["photo"] == 404 and before["message"] == 422
    assert before["api"] == {"stage": "in_progress", "items": {}, "messages": [], "verified": False}
    # No email of news, no certificate, nothing recorded as disclosed.
    result = cli("certificate", reference, "-o", str(tmp_path / "c.pdf"), ok=False)
    assert result.exit_code == 2 and "not verified" in result.output
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 0
        assert list(s.scalars(select(Notification.kind).where(Notification.request_id == rid))) == [
            "request_filed"
        ]
        assert s.scalar(select(func.count()).where(AuditEntry.action == "disclose")) == 0

    # The caseworker calls the family back on a number known to be theirs (the CLI door).
    cli("request", "verify", reference, "--method", "call_back", "--relationship", "дружина")
    after = _doors(family, reference, secret)
    assert "знайдено" in str(after["page"]) and HELD_AT in str(after["page"])
    assert after["photo"] == 200 and after["message"] == 303
    assert after["api"]["stage"] == "found" and after["api"]["items"]["location"] == HELD_AT  # type: ignore[index]
    assert after["api"]["verified"] is True  # type: ignore[index]
    news = mailbox.wait_for(1)[0]  # the news, now that it may be told
    assert reference in news["Subject"] and HELD_AT not in str(news)

    # The audit shows the verification, and the disclosure names the verification it was made under.
    with Session(engine) as s:
        verification = s.scalars(select(EnquirerVerification)).one()
        assert (verification.method, verification.relationship) == ("call_back", "дружина")
        verified = s.scalars(select(AuditEntry).where(AuditEntry.action == "verify")).one()
        assert verified.entity_id == str(rid) and verified.actor == "test:registrar"
        assert verified.changes == {"verification": verification.id, "method": "call_back"}
        disclosed = s.scalars(select(AuditEntry).where(AuditEntry.action == "disclose")).all()
        assert disclosed and all(d.changes["enquirer_verification"] == verification.id for d in disclosed)
        row = s.scalars(select(Disclosure)).first()
        assert row is not None and row.consent["enquirer_verification"]["method"] == "call_back"

    # A doubt: the verification is withdrawn (the API door), and every door closes again.
    r = caseworker_api.post(
        f"/requests/{rid}/verification/withdraw", json={"reason": "the number was not hers"}
    )
    assert r.status_code == 200 and r.json()["withdrawn_reason"] == "the number was not hers"
    again = _doors(family, reference, secret)
    assert again["photo"] == 404 and again["message"] == 422
    assert again["api"]["stage"] == "in_progress" and again["api"]["items"] == {}  # type: ignore[index]
    assert "Ми чекаємо" not in str(again["page"])  # nor the messages sent meanwhile
    r = caseworker_api.post(f"/requests/{rid}/verification/withdraw", json={"reason": "twice"})
    assert r.status_code == 409 and r.json()["error"]["field"] == "request_id"


def file_unmatched(engine: Engine) -> tuple[str, str]:
    with unit_of_work(engine) as s:
        req, secret = file_request(
            s, "test", {"full_name": "Іваненко Петро", "enquirer_name": "Іваненко Ольга", "agree": True}
        )
        return req.reference, secret


def test_even_a_closed_request_is_only_being_handled_for_an_unverified_enquirer(engine: Engine) -> None:
    with unit_of_work(engine) as s:
        req, _secret = file_request(
            s, "test", {"full_name": "Іваненко Петро", "enquirer_name": "Іваненко Ольга", "agree": True}
        )
        set_state(s, "test", req, "closed")
        assert outcome_for(s, req).stage == "in_progress"
        verification = record_verification(s, "test", req.id, "partner_society", "сестра", "Ukrainian RC")
        assert outcome_for(s, req).stage == "closed"
        withdraw_verification(s, "test", req.id, "mistaken identity")
        assert outcome_for(s, s.get(TracingRequest, req.id)).stage == "in_progress"  # type: ignore[arg-type]
        assert verification.verification.note == "Ukrainian RC"
