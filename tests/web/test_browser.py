"""In a real browser (Chromium driven by Playwright) against a real uvicorn server: a family files a
request in Russian, a registrar enters the matching record in Ukrainian, a caseworker confirms the match
and records how the enquirer was verified, the family reads the outcome in Russian. No JavaScript is
needed by the pages, and none is enabled."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("KINLINK_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One backend is enough here: the same flow runs on both in test_family_flow."""
    from kinlink.store import schema
    from kinlink.store.db import make_engine

    url = f"sqlite:///{tmp_path / 'kinlink.db'}"
    eng = make_engine(url)
    schema.upgrade(eng)
    eng.dispose()
    return url


def test_family_registrar_caseworker_in_a_browser(server, staff, mailbox) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:

            def context(locale: str):  # type: ignore[no-untyped-def]
                return browser.new_context(
                    locale=locale, java_script_enabled=False, extra_http_headers={"Accept-Language": locale}
                )

            # 1. The family, in Russian, without an account.
            family = context("ru-RU").new_page()
            family.goto(server.url + "/")
            family.get_by_role("link", name="Подать запрос о розыске").click()
            family.fill("#full_name", "Пактишев Леонид Андреевич")
            family.fill("#birth_date", "1996")
            family.fill("#unit", "64 омсбр")
            family.fill("#capture_place", "Буча")
            family.fill("#enquirer_name", "Пактишева Анна Сергеевна")
            family.fill("#relationship", "мать")
            family.fill("#contact", "anna@example.org")
            family.check("#agree")
            family.get_by_role("button", name="Отправить запрос").click()
            assert family.locator("h1").inner_text() == "Ваш запрос получен"
            reference = family.locator("#reference").inner_text()
            secret = family.locator("#secret").inner_text()
            assert secret not in family.url and reference not in family.url
            family.screenshot(path=str(ARTIFACTS / "1-family-request-filed-ru.png"), full_page=True)

            # 2. The registrar, in Ukrainian, enters the record with the person's consent.
            reg = context("uk-UA").new_page()
            reg.goto(server.url + "/login")
            reg.fill("#username", staff["registrar"][0])
            reg.fill("#password", staff["registrar"][1])
            reg.get_by_role("button", name="Увійти").click()
            reg.get_by_role("link", name="Новий запис").first.click()
            reg.fill("#full_name", "Пактишев Леонід Андрійович")
            reg.fill("#name_language", "uk")
            reg.select_option("#sex", "m")
            reg.fill("#birth_date", "02.03.1996")
            reg.fill("#unit", "64 омсбр")
            reg.fill("#location", "Табір №2, Оленівка")
            reg.select_option("#status", "captured")
            reg.fill("#status_date", "2022-03-30")
            reg.fill("#place", "Буча")
            reg.check("#consent_inform_family")
            reg.check("#consent_share_location")
            reg.get_by_role("button", name="Зберегти").click()
            assert reg.locator("#status").inner_text() == "у полоні"
            reg.screenshot(path=str(ARTIFACTS / "2-registrar-record-uk.png"), full_page=True)

            # 3. The caseworker reviews the candidate side by side and confirms.
            cw = context("en-GB").new_page()
            cw.goto(server.url + "/login")
            cw.fill("#username", staff["caseworker"][0])
            cw.fill("#password", staff["caseworker"][1])
            cw.get_by_role("button", name="Sign in").click()
            assert "/queue" in cw.url
            cw.get_by_role("link", name="Review").first.click()
            table = cw.locator("#comparison").inner_text()
            assert "Пактишев Леонид Андреевич" in table and "Пактишев Леонід Андрійович" in table
            cw.screenshot(path=str(ARTIFACTS / "3-caseworker-candidate.png"), full_page=True)
            cw.fill("#reason", "Same unit and date of birth; patronymic spelled in Ukrainian.")
            cw.locator("#confirm").click()
            assert cw.locator("#consequences").is_visible()  # what confirming does, before it is recorded
            cw.locator("#confirm-decision").click()
            assert "/queue" in cw.url and cw.locator("#notice").is_visible()

            # 4. The family checks progress with the reference and the secret, in Russian: nobody has
            # verified who the enquirer is yet, so nothing beyond "being handled".
            family.goto(server.url + "/track")
            family.fill("#reference", reference)
            family.fill("#secret", secret)
            family.get_by_role("button", name="Проверить ход поиска").click()
            assert family.locator("#outcome-summary").inner_text().startswith("Ваш запрос в работе")
            assert family.locator("#verification-note").is_visible()
            assert "Оленівка" not in family.content()

            # 5. The caseworker calls the family back on a known number and records it on the case page.
            cw.goto(server.url + "/cases")
            cw.get_by_role("link", name=reference).click()
            cw.select_option("#method", "call_back")
            assert cw.locator("#relationship").input_value() == "мать"
            cw.locator("#record-verification").click()
            assert "Verified" in cw.locator("#verification").inner_text()
            cw.screenshot(path=str(ARTIFACTS / "5-caseworker-verification.png"), full_page=True)

            # 6. Now the family is told what the person consented to.
            family.reload()
            summary = family.locator("#outcome-summary").inner_text()
            assert summary == "Человек, которого вы ищете, найден. Он жив и находится в плену."
            assert family.locator("#outcome-location").inner_text() == "Табір №2, Оленівка"
            assert "outcome-health" not in family.content()
            family.screenshot(path=str(ARTIFACTS / "6-family-outcome-ru.png"), full_page=True)
        finally:
            browser.close()
    assert len(mailbox.wait_for(2)) >= 2  # the filing email and the news once the enquirer was verified
