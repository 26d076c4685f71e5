"""Capture and internment cards and certificates, read back from their PDFs (pypdf) in Cyrillic and with
Romanian diacritics; the public check of a certificate's code, which says only whether it is genuine and
current; the refusals that keep a certificate to what a family may be told."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinlink.accounts import tokens, users
from kinlink.accounts.throttle import Quotas
from kinlink.http.settings import Settings
from kinlink.matching.model import load_model
from kinlink.registry import records
from kinlink.store.casework_models import Certificate, Disclosure
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry
from kinlink.store.tracing_models import MatchCandidate
from kinlink.tracing.decisions import decide
from kinlink.tracing.mail import MailSettings
from kinlink.tracing.verification import record_verification
from tests.support import MATCHING, Cli, add_record, file_request
from tests.web.helpers import Mailbox

PRISONER = {
    "record_id": "RU-0042",
    "family_name": "ПАКТЫШЕВ",
    "given_names": "Леонид",
    "patronymic": "Андреевич",
    "name_language": "ru",
    "sex": "m",
    "birth_date": "1993-11-02",
    "place_of_birth": "Ижевск",
    "nationality": "Российская Федерация",
    "power": "Российская Федерация",
    "rank": "рядовой",
    "service_number": "RU-7731-552",
    "father_name": "Андрей",
    "inform_name": "Пактышева Анна",
    "inform_address": "Ижевск, ул. Ленина, 1",
    "detaining_power": "Україна",
    "detainee_number": "ВП-1187",
    "health_state": "slightly_wounded",
    "consent_inform_family": True,
    "events": [
        {"kind": "captured", "date": "2022-02-27", "place": "Київська область"},
        {"kind": "transferred", "date": "2022-04-02", "place": "Оленівка"},
    ],
}


def pdf_text(data: bytes) -> str:
    """The PDF's text, its lines joined (a table cell wraps a long label over two)."""
    assert data.startswith(b"%PDF-")
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def settings(mailbox: Mailbox) -> Settings:
    """Few tries of unknown codes per address, so that the limit is reached in a test."""
    return Settings(
        secret_key="test-secret",
        mail=MailSettings(host="127.0.0.1", port=mailbox.port, base_url="http://kinlink.test"),
        quotas=Quotas(verify_failures_per_ip=4, verify_failures_global=1000),
    )


@pytest.fixture
def api(engine: Engine, server, staff):  # type: ignore[no-untyped-def]
    out = {}
    with unit_of_work(engine) as s:
        for role in ("registrar", "caseworker"):
            token = tokens.create_token(s, "test", users.find_user(s, staff[role][0]).id, "papers")[1]
            out[role] = httpx.Client(
                base_url=server.url + "/api/v1", timeout=30, headers={"authorization": f"Bearer {token}"}
            )
    yield out
    for c in out.values():
        c.close()


def _prisoner(engine: Engine, **changes: object) -> int:
    with unit_of_work(engine) as s:
        return add_record(s, "test", {**PRISONER, **changes}).id


# --- cards -----------------------------------------------------------------------------------------------


def test_a_capture_card_in_the_prisoners_language_and_the_detaining_powers(
    engine: Engine, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINLINK_BUREAU_LANGUAGE", "uk")
    monkeypatch.setenv("KINLINK_BUREAU_NAME", "Національне інформаційне бюро")
    pid = _prisoner(engine)
    out = tmp_path / "card.pdf"
    cli("cards", "capture", "kinlink-web:RU-0042", "-o", str(out))
    assert out.stat().st_mode & 0o777 == 0o600  # personal data: readable by its owner only
    text = pdf_text(out.read_bytes())
    # The model's headings in Russian (the prisoner's) and Ukrainian (the detaining power's).
    for heading in (
        "Карточка о взятии в плен военнопленного",
        "Картка про взяття в полон військовополоненого",
        "Держава, от которой зависит военнопленный",
        "Держава, від якої залежить військовополонений",
        "Центральное агентство по розыску",
        "Адрес семьи",
        "Адреса родини",
    ):
        assert heading in text, heading
    # The record's values, as written.
    for value in (
        "ПАКТЫШЕВ",
        "Леонид Андреевич",
        "Андрей",
        "1993-11-02",
        "Ижевск",
        "RU-7731-552",
        "Пактышева Анна, Ижевск, ул. Ленина, 1",
        "ВП-1187",
        "Оленівка",
        "Україна",
        "Легко ранен",
        "Національне інформаційне бюро",
    ):
        assert value in text, value
    # Item 10 after a transfer: where the prisoner came from, and when.
    assert "Київська область, 2022-04-02" in text
    # Audited: a read of the record, and a disclosure to the Central Tracing Agency naming the file.
    with Session(engine) as s:
        entries = list(
            s.scalars(
                select(AuditEntry).where(AuditEntry.entity == "person", AuditEntry.entity_id == str(pid))
            )
        )
    disclose = next(e for e in entries if e.action == "disclose")
    assert disclose.changes["paper"] == "capture_card" and disclose.changes["languages"] == ["ru", "uk"]
    assert disclose.changes["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert any(e.action == "read" and e.changes == {"view": "capture card"} for e in entries)


def test_an_internment_card_with_romanian_diacritics(engine: Engine, cli: Cli, tmp_path: Path) -> None:
    _prisoner(
        engine,
        record_id="MD-7",
        family_name="ȘTEFĂNESCU",
        given_names="Ionuț",
        patronymic="",
        name_language="ro",
        nationality="Republica Moldova",
        occupation="învățător",
        residence="Bălți, str. Ștefan cel Mare 3",
        events=[{"kind": "interned", "date": "2022-03-05", "place": "Херсон"}],
        health_state="sick",
    )
    out = tmp_path / "internment.pdf"
    cli("cards", "internment", "kinlink-web:MD-7", "-o", str(out), "--languages", "ro,ru")
    text = pdf_text(out.read_bytes())
    for expected in (
        "Fișă de internare",
        "Карточка интернированного",
        "Adresa înainte de detenție",
        "ȘTEFĂNESCU",
        "Ionuț",
        "învățător",
        "Bălți, str. Ștefan cel Mare 3",
        "Republica Moldova",
        "2022-03-05, Херсон",
        "Bolnav",  # the state of health, in Romanian
    ):
        assert expected in text, expected


def test_cards_on_the_record_page_and_the_api_are_for_registrars(engine: Engine, client_for, api) -> None:
    pid = _prisoner(engine)
    registrar = client_for("registrar")
    page = registrar.get(f"/records/{pid}").text
    assert (
        f'href="/records/{pid}/cards/capture"' in page and f'href="/records/{pid}/cards/internment"' in page
    )
    r = registrar.get(f"/records/{pid}/cards/capture", params={"languages": "uk,ro"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["cache-control"] == "no-store"
    text = pdf_text(r.content)
    assert "Картка про взяття в полон військовополоненого" in text
    assert "Fișă de capturare a prizonierului de război" in text
    assert client_for("caseworker").get(f"/records/{pid}/cards/capture").status_code == 403
    r = api["registrar"].get(f"/records/{pid}/cards/internment")
    assert r.status_code == 200 and "Карточка интернированного" in pdf_text(r.content)
    r = api["registrar"].get(f"/records/{pid}/cards/postcard")
    assert r.status_code == 422 and r.json()["error"]["field"] == "kind"


def test_bad_card_fields_are_refused_naming_the_field(engine: Engine, cli: Cli, write) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "bad.csv",
        "record_id,full_name,language,health_state\n"
        "A-1,Іваненко Петро,uk,good health\n"
        "A-2,Петренко Іван,українська,fine\n",
    )
    result = cli("import", "registry", str(path), "--source", "s", ok=False)
    assert result.exit_code != 0
    assert "bad.csv:3: language: 'українська' is not a language code" in result.output
    assert "bad.csv:3: health_state: 'fine' is not a state of health" in result.output
    assert "bad.csv:2" not in result.output  # "good health" is good_health
    with Session(engine) as s:
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "import")) is None


# --- certificates ----------------------------------------------------------------------------------------


def _matched_request(engine: Engine, *, verified: bool = True, language: str = "ru") -> tuple[int, str, int]:
    """A family's request matched to the prisoner: (request id, reference, person id)."""
    with unit_of_work(engine) as s:
        person = add_record(s, "test", PRISONER)
        req, _secret = file_request(
            s,
            "test",
            {
                "full_name": "Пактышев Леонид Андреевич",
                "birth_date": "1993",
                "enquirer_name": "Пактышева Анна",
                "language": language,
                "agree": True,
            },
        )
        cand = s.scalar(select(MatchCandidate).where(MatchCandidate.request_id == req.id))
        assert cand is not None and cand.person_id == person.id
        decide(s, "test", cand.id, "confirmed", "same name and birth year", cand.version, model=load_model())
        if verified:
            record_verification(s, "test", req.id, "identity_document", "мать", "passport seen")
        return req.id, req.reference, person.id


def test_a_certificate_for_a_family_reads_back_and_verifies(
    engine: Engine, cli: Cli, client_for, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINLINK_BUREAU_LANGUAGE", "uk")
    monkeypatch.setenv("KINLINK_BUREAU_PREFIX", "UA-NIB")
    monkeypatch.setenv("KINLINK_BASE_URL", "http://kinlink.test")
    rid, reference, pid = _matched_request(engine)
    out = tmp_path / "certificate.pdf"
    issued = cli.json("certificate", reference, "-o", str(out))
    text = pdf_text(out.read_bytes())
    code = issued["code"]
    assert re.fullmatch(r"([2-9A-HJKMNP-Z]{5}-){3}[2-9A-HJKMNP-Z]{5}", code)
    assert re.fullmatch(r"UA-NIB-\d{4}-0{5}1", issued["serial"])
    for expected in (
        "Справка о статусе",  # the family's language
        "Довідка про статус",  # the bureau's
        "ПАКТЫШЕВ Леонид Андреевич",
        "1993-11-02",
        "в плену",
        "2022-02-27",  # the date of the status (the capture; a transfer does not change it)
        "Чем подтверждено",
        "сообщено державой",  # the capture's confirmation level: the bureau's own record
        issued["serial"],
        code,
        f"http://kinlink.test/verify/{code}",
    ):
        assert expected in text, expected
    # Issued: audited, and recorded as a disclosure to the family under the verification of its enquirer.
    with Session(engine) as s:
        cert = s.scalars(select(Certificate)).one()
        assert cert.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
        disclosure = s.scalars(select(Disclosure).where(Disclosure.channel == "certificate")).one()
        assert disclosure.request_id == rid and disclosure.items["certificate"] == cert.serial
        assert disclosure.consent["enquirer_verification"]["method"] == "identity_document"
        actions = [
            (a.action, a.entity)
            for a in s.scalars(select(AuditEntry).where(AuditEntry.actor == "test:registrar"))
        ]
    assert ("issue", "certificate") in actions and ("disclose", "tracing_request") in actions

    anyone = client_for()
    page = anyone.get(f"/verify/{code}")
    assert page.status_code == 200 and 'id="verify-result"' in page.text
    assert "genuine and current" in page.text
    assert page.headers["x-robots-tag"] == "noindex"
    # Typed by hand: any case, without dashes.
    assert "genuine and current" in anyone.get(f"/verify/{code.replace('-', '').lower()}").text
    assert cli.json("certificate", "--check", code) == {"state": "current"}

    # A later status makes it no longer current.
    with unit_of_work(engine) as s:
        records.add_event(s, "test", pid, "released", "2023-01-10", matching=MATCHING)
    assert "no longer current" in anyone.get(f"/verify/{code}").text


def test_the_check_reveals_nothing_but_genuine_and_current(
    engine: Engine, cli: Cli, client_for, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _rid, reference, _pid = _matched_request(engine)
    first = cli.json("certificate", reference, "-o", str(tmp_path / "a.pdf"))
    with unit_of_work(engine) as s:
        other = add_record(
            s,
            "test",
            {
                "record_id": "UA-9",
                "full_name": "Бондаренко Олег",
                "status": "missing",
                "status_date": "2022-06",
            },
        )
    second = cli.json("certificate", str(other.id), "--to", "Бондаренко Ірина", "-o", str(tmp_path / "b.pdf"))
    anyone = client_for(lang="ru")

    def main(code: str) -> str:
        page = anyone.get(f"/verify/{code}").text
        return page[page.index("<main") : page.index("</main>")]

    # Two certificates of two people, of two statuses: the page says the same about both.
    assert main(first["code"]) == main(second["code"])
    shown = main(first["code"])
    for secret in (
        "ПАКТЫШЕВ",
        "Пактышев",
        "1993",
        "2022",
        "плен",
        first["serial"],
        first["code"],
        reference,
        "Бондаренко",
        "пропал",
    ):
        assert secret not in shown, secret
    # Revoked: no longer current, and the page still says nothing else.
    cli("certificate", "--revoke", second["serial"], "--reason", "issued to the wrong person")
    revoked = main(second["code"])
    assert "больше не действительна" in revoked
    assert cli.json("certificate", "--check", second["code"]) == {"state": "not_current"}
    assert "Бондаренко" not in revoked and second["serial"] not in revoked
    # Revoking twice, or without a reason, is refused.
    result = cli("certificate", "--revoke", second["serial"], "--reason", "again", ok=False)
    assert result.exit_code == 2 and "already revoked" in result.output
    result = cli("certificate", "--revoke", first["serial"], "--reason", " ", ok=False)
    assert result.exit_code == 2 and "reason:" in result.output


def test_unknown_codes_are_limited_per_address_and_genuine_ones_always_answered(
    engine: Engine, cli: Cli, client_for, tmp_path: Path
) -> None:
    _rid, reference, _pid = _matched_request(engine)
    code = cli.json("certificate", reference, "-o", str(tmp_path / "a.pdf"))["code"]
    guesser = client_for()
    for n in range(4):
        r = guesser.get(f"/verify/2222{n}-33333-44444-55555")
        assert r.status_code == 404 and "No certificate has this code" in r.text
    r = guesser.get("/verify/22229-33333-44444-55555")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # The genuine code is answered all the same, from the same address.
    assert "genuine and current" in guesser.get(f"/verify/{code}").text
    # The form: a code typed in is checked on its own page.
    r = guesser.form("/verify", {"code": f" {code.lower()} "})
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{code.upper()}"


def test_a_certificate_only_says_what_the_family_may_be_told(
    engine: Engine, cli: Cli, tmp_path: Path
) -> None:
    out = str(tmp_path / "c.pdf")
    _rid, unverified, pid = _matched_request(engine, verified=False)
    result = cli("certificate", unverified, "-o", out, ok=False)
    assert (
        result.exit_code == 2 and "ref: the enquirer of" in result.output and "not verified" in result.output
    )
    # A record: to whom it is issued must be said; a person who did not consent is not certified.
    result = cli("certificate", str(pid), "-o", out, ok=False)
    assert result.exit_code == 2 and result.output.startswith("recipient:")
    with unit_of_work(engine) as s:
        quiet = add_record(
            s, "test", {"record_id": "UA-3", "full_name": "Мельник Віктор", "status": "captured"}
        ).id
        dead = add_record(s, "test", {"record_id": "UA-4", "full_name": "Кравець Юрій", "status": "died"}).id
        nothing = add_record(s, "test", {"record_id": "UA-5", "full_name": "Ткач Ігор"}).id
    for ref, why in (
        (quiet, "has not agreed"),
        (dead, "has not decided that this death may be told"),
        (nothing, "has no status to certify"),
    ):
        result = cli("certificate", str(ref), "--to", "родина", "-o", out, ok=False)
        assert result.exit_code == 2 and why in result.output, (ref, result.output)
    result = cli("certificate", "99999999999999999999", "--to", "родина", "-o", out, ok=False)
    assert result.exit_code == 2 and "no record" in result.output
    with Session(engine) as s:
        assert s.scalars(select(Certificate)).first() is None
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "issue")) is None


def test_certificates_through_the_case_page_and_the_api(engine: Engine, client_for, api) -> None:  # type: ignore[no-untyped-def]
    rid, reference, pid = _matched_request(engine, language="uk")
    caseworker = client_for("caseworker")
    page = caseworker.get(f"/cases/{rid}").text
    assert 'id="issue-certificate"' in page and 'id="verification"' in page
    r = caseworker.form(f"/cases/{rid}/certificate", {"language": ""})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "Довідка про статус" in pdf_text(r.content)
    # Listed on the case and the record, current, with a form to revoke it.
    page = caseworker.get(f"/cases/{rid}").text
    serial = re.search(r"<td>(KL-\d{4}-\d{6})</td>", page).group(1)  # type: ignore[union-attr]
    assert ">current<" in page
    cid = re.search(r'action="/certificates/(\d+)/revoke"', page).group(1)  # type: ignore[union-attr]
    assert serial in caseworker.get(f"/records/{pid}").text
    assert (
        caseworker.form(
            f"/certificates/{cid}/revoke", {"reason": "lost", "next": f"/cases/{rid}"}
        ).status_code
        == 303
    )
    assert ">revoked<" in caseworker.get(f"/cases/{rid}").text
    # The API gives the PDF, its serial and its code (shown this once).
    r = api["caseworker"].post("/certificates", json={"ref": reference, "language": "ru"})
    assert r.status_code == 201 and "Справка о статусе" in pdf_text(r.content)
    assert r.headers["x-certificate-serial"].startswith("KL-") and r.headers["x-certificate-code"]
    r = api["caseworker"].post("/certificates", json={"ref": str(pid)})
    assert r.status_code == 422 and r.json()["error"]["field"] == "recipient"
    r = api["caseworker"].post(f"/certificates/{cid}/revoke", json={"reason": "again"})
    assert r.status_code == 409
    # A record's certificate from its page, for whom the caseworker names; a refusal is shown there.
    r = caseworker.form(f"/records/{pid}/certificate", {"recipient": "", "language": "ro"})
    assert r.status_code == 422 and 'id="certificate-error"' in r.text
    r = caseworker.form(f"/records/{pid}/certificate", {"recipient": "Pactîșeva Ana", "language": "ro"})
    assert r.status_code == 200 and "Certificat de statut" in pdf_text(r.content)
