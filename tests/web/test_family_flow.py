"""The whole tracing workflow over real HTTP: a family files a request, a registrar records the person,
a caseworker confirms the match and verifies the enquirer, the family learns what the person consented
to, news is emailed."""

from __future__ import annotations

import re

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kinlink.store.casework_models import Disclosure, Notification
from kinlink.store.models import AuditEntry
from tests.web.helpers import Client, Mailbox, body_of

REQUEST = {
    "full_name": "Пактишев Леонид Андреевич",
    "birth_date": "1996",
    "unit": "64 омсбр",
    "capture_place": "Буча",
    "enquirer_name": "Пактишева Анна",
    "relationship": "мать",
    "contact": "anna@example.org",
    "agree": "on",
}
RECORD = {
    "record_id": "UA-77",
    "full_name": "Пактишев Леонід Андрійович",
    "name_language": "uk",
    "sex": "m",
    "birth_date": "1996-03-02",
    "unit": "64 омсбр",
    "location": "Табір №2, Олениця",
    "status": "captured",
    "status_date": "2022-03-30",
    "place": "Буча",
}

# When the person gave their consent, who said so, and how: recorded with every consent.
CONSENT_SOURCE = {"given_on": "2023-06-02", "given_by": "the person, in a letter", "given_how": "in_writing"}


def file_request(family: Client, data: dict[str, str] | None = None) -> tuple[str, str]:
    r = family.form("/request", data or REQUEST)
    assert r.status_code == 200, r.text
    reference = re.search(r'id="reference">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="secret">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    return reference, secret


def create_record(registrar: Client, data: dict[str, str]) -> int:
    r = registrar.form("/records/new", data)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1].split("?")[0])


def confirm_first_candidate(caseworker: Client) -> None:
    queue = caseworker.get("/queue")
    assert queue.status_code == 200
    cid = re.search(r'href="/candidates/(\d+)"', queue.text)
    assert cid, "the matcher proposed no candidate"
    page = caseworker.get(f"/candidates/{cid.group(1)}")
    assert page.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    decision = {"decision": "confirmed", "reason": "same unit and birth year", "version": version}
    # First the check of what the decision will do (nothing written), then the decision itself.
    check = caseworker.form(f"/candidates/{cid.group(1)}/decision", decision)
    assert check.status_code == 200 and 'id="consequences"' in check.text, check.text
    r = caseworker.form(f"/candidates/{cid.group(1)}/decision", {**decision, "step": "confirm"})
    assert r.status_code == 303, r.text


def verify_enquirer(caseworker: Client, reference: str, relationship: str = "мать") -> None:
    """On the case page: the enquirer was verified by a call back to a known number."""
    cases = caseworker.get("/cases").text
    rid = re.search(rf'href="/cases/(\d+)">{reference}<', cases)
    assert rid, f"no case {reference}"
    r = caseworker.form(
        f"/cases/{rid.group(1)}/verification", {"method": "call_back", "relationship": relationship}
    )
    assert r.status_code == 303, r.text


def test_request_to_disclosure(engine: Engine, client_for, mailbox: Mailbox) -> None:  # type: ignore[no-untyped-def]
    family = client_for(lang="ru")
    page = family.get("/request")
    assert "Подать запрос о розыске" in page.text
    reference, secret = file_request(family)
    assert re.fullmatch(r"TR-[2-9A-Z]{4}-[2-9A-Z]{4}", reference)

    # The email with the reference and the secret, in the family's language.
    filed = mailbox.wait_for(1)[0]
    assert filed["To"] == "anna@example.org"
    assert reference in filed["Subject"] and secret in body_of(filed)
    assert "Мы получили ваш запрос" in body_of(filed)

    # Before any match: only "being handled".
    assert family.track(reference, secret).status_code == 303
    status = family.get("/family")
    assert "Ваш запрос в работе" in status.text

    registrar = client_for("registrar")
    pid = create_record(registrar, {**RECORD, "consent_inform_family": "on", "consent_share_location": "on"})
    caseworker = client_for("caseworker")
    # The evidence in the caseworker's language: no English sentence, no certainty.
    in_ru = client_for("caseworker", lang="ru")
    cid = re.search(r'href="/candidates/(\d+)"', in_ru.get("/queue").text).group(1)  # type: ignore[union-attr]
    page = in_ru.get(f"/candidates/{cid}").text
    assert "та же фамилия" in page and "не указано для разыскиваемого (есть только в записи)" in page
    for english in ("same family name", "not known", "records share", "likely the same", "100.0"):
        assert english not in page, english
    confirm_first_candidate(caseworker)

    # Confirmed and consented, but nobody has verified the enquirer: still only "being handled".
    status = family.get("/family")
    assert "Ваш запрос в работе" in status.text and 'id="verification-note"' in status.text
    assert "найден" not in status.text and "Олениця" not in status.text
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 0
        assert list(s.scalars(select(Notification.kind))) == ["request_filed"]
    verify_enquirer(caseworker, reference)

    status = family.get("/family")
    assert "найден" in status.text and "в плену" in status.text
    assert "Олениця" in status.text  # location: consented
    assert 'id="outcome-health"' not in status.text  # health: not consented

    news = mailbox.wait_for(2)[1]
    assert reference in news["Subject"]
    assert "Олениця" not in body_of(news)  # emails never carry what was disclosed

    with Session(engine) as s:
        disclosures = list(s.scalars(select(Disclosure)))
        assert len(disclosures) == 1
        d = disclosures[0]
        assert d.person_id == pid and d.items["location"] == "Табір №2, Олениця"
        assert d.consent["share_location"] is True and d.consent["share_health"] is False
        assert d.recipient == f"enquirer of {reference}"
        assert (
            s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "disclose")) == 1
        )

    # The same facts shown again are not a new disclosure; a new consent is.
    family.get("/family")
    page = registrar.get(f"/records/{pid}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    r = registrar.form(
        f"/records/{pid}/consent",
        {
            "consent_inform_family": "on",
            "consent_share_location": "on",
            "consent_share_health": "on",
            "version": version,
            **CONSENT_SOURCE,
        },
    )
    assert r.status_code == 303
    status = family.get("/family")
    assert 'id="outcome-health"' in status.text
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 2
    mailbox.wait_for(3)  # the change of what may be told is news


def test_no_consent_discloses_nothing(engine: Engine, client_for, mailbox: Mailbox) -> None:  # type: ignore[no-untyped-def]
    family = client_for(lang="uk")
    reference, secret = file_request(family)
    create_record(client_for("registrar"), RECORD)  # no consent recorded
    confirm_first_candidate(client_for("caseworker"))
    verify_enquirer(client_for("caseworker"), reference)
    family.track(reference, secret)
    status = family.get("/family")
    assert "Ваш запит опрацьовується" in status.text
    assert "Олениця" not in status.text and "полоні" not in status.text
    assert 'action="/family/messages"' not in status.text
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 0
        # Only the filing email: a confirmed match the family may not learn of is not announced.
        kinds = list(s.scalars(select(Notification.kind)))
    assert kinds == ["request_filed"]


def test_death_is_told_as_the_registrar_decides(engine: Engine, client_for) -> None:  # type: ignore[no-untyped-def]
    family = client_for(lang="en")
    reference, secret = file_request(family)
    registrar = client_for("registrar")
    pid = create_record(
        registrar,
        {
            **RECORD,
            "status": "died",
            "status_date": "2022-04-02",
            "place": "Буча",
            "consent_inform_family": "on",
        },
    )
    confirm_first_candidate(client_for("caseworker"))
    verify_enquirer(client_for("caseworker"), reference)
    family.track(reference, secret)
    assert "being handled" in family.get("/family").text  # no decision yet: nothing is told
    r = registrar.form(f"/records/{pid}/death-disclosure", {"disclose": "on"})
    assert r.status_code == 303
    page = family.get("/family").text
    assert "has died" in page and "2 April 2022" in page and "Буча" not in page
    registrar.form(f"/records/{pid}/death-disclosure", {"disclose": "on", "include_place": "on"})
    assert "Буча" in family.get("/family").text


def test_messages_are_reviewed_before_delivery(engine: Engine, client_for, mailbox: Mailbox) -> None:  # type: ignore[no-untyped-def]
    family = client_for(lang="en")
    reference, secret = file_request(family)
    registrar = client_for("registrar")
    pid = create_record(registrar, {**RECORD, "consent_inform_family": "on"})
    caseworker = client_for("caseworker")
    confirm_first_candidate(caseworker)
    family.track(reference, secret)
    # No word to the person before the enquirer is verified (the family is told nothing yet).
    assert family.form("/family/messages", {"body": "Мы живы, ждём тебя дома."}).status_code == 422
    verify_enquirer(caseworker, reference)

    r = family.form("/family/messages", {"body": "Мы живы, ждём тебя дома."})
    assert r.status_code == 303
    page = family.get("/family").text
    assert "Мы живы" in page and "awaiting review" in page

    queue = caseworker.get("/messages").text
    mid = re.search(r'action="/messages/(\d+)/review"', queue).group(1)  # type: ignore[union-attr]
    version = re.search(r'name="version" value="(\d+)"', queue).group(1)  # type: ignore[union-attr]
    assert (
        caseworker.form(f"/messages/{mid}/review", {"action": "approve", "version": version}).status_code
        == 303
    )
    assert "approved, awaiting delivery" in family.get("/family").text
    assert caseworker.form(f"/messages/{mid}/delivered").status_code == 303
    assert "delivered" in family.get("/family").text

    # A message from the person: invisible to the family until a caseworker approves it.
    r = registrar.form(f"/records/{pid}/messages", {"body": "Мама, я живий."})
    assert r.status_code == 303
    assert "я живий" not in family.get("/family").text
    queue = caseworker.get("/messages").text
    mid = re.search(r'action="/messages/(\d+)/review"', queue).group(1)  # type: ignore[union-attr]
    # A rejection needs a reason.
    assert caseworker.form(f"/messages/{mid}/review", {"action": "reject"}).status_code == 422
    assert caseworker.form(f"/messages/{mid}/review", {"action": "approve"}).status_code == 303
    assert "я живий" in family.get("/family").text

    kinds = [m["Subject"] for m in mailbox.wait_for(4)]
    assert len(kinds) == 4  # filed, match confirmed, message delivered, message received


def test_withdrawn_consent_leaves_what_no_consent_shows(engine: Engine, client_for, mailbox: Mailbox) -> None:  # type: ignore[no-untyped-def]
    registrar, caseworker = client_for("registrar"), client_for("caseworker")
    # A match the person never consented to tell: what its family sees.
    never = client_for(lang="en")
    ref_never, secret_never = file_request(never, {**REQUEST, "full_name": "Коваленко Сергій", "unit": ""})
    create_record(registrar, {**RECORD, "record_id": "UA-78", "full_name": "Коваленко Сергій", "unit": ""})
    confirm_first_candidate(caseworker)
    verify_enquirer(caseworker, ref_never)
    never.track(ref_never, secret_never)

    family = client_for(lang="en")
    reference, secret = file_request(family)
    pid = create_record(registrar, {**RECORD, "consent_inform_family": "on", "consent_share_location": "on"})
    confirm_first_candidate(caseworker)
    verify_enquirer(caseworker, reference)
    family.track(reference, secret)
    assert registrar.form(f"/records/{pid}/messages", {"body": "Мама, я живий."}).status_code == 303
    queue = caseworker.get("/messages").text
    mid = re.search(r'action="/messages/(\d+)/review"', queue).group(1)  # type: ignore[union-attr]
    assert caseworker.form(f"/messages/{mid}/review", {"action": "approve"}).status_code == 303
    assert "я живий" in family.get("/family").text

    # The person withdraws every consent.
    assert registrar.form(f"/records/{pid}/consent", CONSENT_SOURCE).status_code == 303

    def shown(c: Client) -> str:
        page = c.get("/family").text
        main = page[page.index("<main") : page.index("</main>")]
        main = re.sub(
            r'<dl class="facts" id="asked">.*?</dl>', "", main, flags=re.S
        )  # whom each family asked for
        return re.sub(r"TR-[0-9A-Z]{4}-[0-9A-Z]{4}", "TR-…", main)

    after = shown(family)
    assert "я живий" not in after and "Олениця" not in after
    assert after == shown(never)
    # The API's status call tells the same.
    creds = [{"reference": reference, "secret": secret}, {"reference": ref_never, "secret": secret_never}]
    withdrawn, unconsented = (
        {k: v for k, v in family.post("/api/v1/requests/status", json=c).json().items() if k != "reference"}
        for c in creds
    )
    assert withdrawn == unconsented and withdrawn["messages"] == []
