"""What the issue-18 browser tests share: one demo database and one real server for the whole module, one
Chromium (Debian's, driven by Playwright), signed-in contexts per role and language, screenshots kept
under test-artifacts/, and the check that a page says nothing in English where it should not."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from sqlalchemy import select
from typer.testing import CliRunner

from kinlink.accounts.demo import demo_accounts
from kinlink.accounts.throttle import Quotas
from kinlink.cli import app
from kinlink.http.settings import Settings
from kinlink.i18n import TRANSLATIONS
from kinlink.registry import records
from kinlink.server.run import BackgroundServer
from kinlink.store import schema
from kinlink.store.db import make_engine, unit_of_work
from kinlink.store.models import Person
from kinlink.store.report_models import Sighting
from kinlink.store.tracing_models import MatchCandidate
from kinlink.tracing.decisions import decide
from kinlink.tracing.mail import MailSettings
from kinlink.tracing.verification import record_verification
from tests.support import MATCHING, MODEL, file_request

CHROMIUM = os.environ.get("KINLINK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "issue-18"
WIDTHS = (390, 1280)
LANGS = ("ro", "ru", "uk")
HELD = "Гаврилов Архип Демидович"  # a demo record: captured on 4 August 2022
SOUGHT = "Сидоренко Остап Іванович"  # a record whose candidate stays pending
CONSENT = records.ConsentSource("2022-09-01", "the person, to an ICRC delegate in Olenivka", "in_person")


def axe_script() -> str:
    """axe-core, as the axe-playwright-python package ships it (nothing is downloaded)."""
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).with_name("axe.min.js")).read_text(encoding="utf-8")


@dataclass
class World:
    url: str
    staff: dict[str, tuple[str, str]]
    engine: Any
    family: tuple[str, str] = ("", "")  # matched to HELD, who agreed to share where they are
    waiting: tuple[str, str] = ("", "")  # still being handled, with a pending candidate
    held_id: int = 0
    sighting_id: int = 0
    document_id: int = 0
    candidate_id: int = 0  # pending, of the waiting request
    request_id: int = 0  # the waiting request's id (the case page)
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def running_world(tmp: Path) -> Iterator[World]:
    """The demo database (`kinlink demo`), a matched family and a waiting one, served by a real server."""
    url = f"sqlite:///{tmp / 'kinlink.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    result = CliRunner().invoke(app, ["--db", url, "--as", "test:demo", "demo"])
    assert result.exit_code == 0, result.output
    staff = {role: (user, pw) for role, user, pw in demo_accounts(engine)}
    world = World("", staff, engine)
    with unit_of_work(engine) as s:
        held = s.scalar(select(Person).where(Person.full_name == HELD))
        assert held is not None
        world.held_id = held.id
        records.add_event(s, "test", held.id, "transferred", "2022-09-20", "Оленівка", matching=MATCHING)
        consent = {"consent_inform_family": True, "consent_share_location": True}
        records.set_consent(s, "test", held.id, consent, matching=MATCHING, source=CONSENT)
        req, secret = file_request(
            s,
            "test",
            {"full_name": HELD, "birth_date": "1982", "enquirer_name": "Гаврилова Олена", "agree": True,
             "contact": "olena@example.org", "relationship": "сестра"},
        )  # fmt: skip
        cand = s.scalar(
            select(MatchCandidate).where(
                MatchCandidate.request_id == req.id, MatchCandidate.person_id == held.id
            )
        )
        assert cand is not None, "the matcher proposed no candidate for the held person"
        record_verification(s, "test", req.id, "identity_document", "сестра", "passport seen")
        decide(s, "test", cand.id, "confirmed", "same name, birth year and unit", cand.version, model=MODEL)
        world.family = (req.reference, secret)
        records.create_record(
            s,
            "test",
            {"full_name": SOUGHT, "sex": "m", "birth_date": "1990-05-01", "status": "captured",
             "status_date": "2022-05-20", "place": "Маріуполь", "unit": "36 ОБрМП"},
            matching=MATCHING,
        )  # fmt: skip
        waiting, waiting_secret = file_request(
            s,
            "test",
            {"full_name": SOUGHT, "birth_date": "1990", "capture_date": "2022-05",
             "enquirer_name": "Сидоренко Марія", "agree": True},
        )  # fmt: skip
        pending = s.scalar(select(MatchCandidate).where(MatchCandidate.request_id == waiting.id))
        assert pending is not None
        world.waiting, world.candidate_id, world.request_id = (
            (waiting.reference, waiting_secret),
            pending.id,
            waiting.id,
        )
        sighting = s.scalar(select(Sighting))
        assert sighting is not None, "the demo's seed article gave no sighting"
        world.sighting_id, world.document_id = sighting.person_id, sighting.document_id
    settings = Settings(
        secret_key="browser-tests",
        mail=MailSettings(host=None),
        quotas=Quotas(family_failures_per_ip=4, requests_filed_per_ip=100),
    )
    with BackgroundServer(engine, settings) as srv:
        world.url = srv.url
        yield world
    engine.dispose()


# --- what a page must not say in English ------------------------------------------------------------


@cache
def english_texts(lang: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each English message whose translation differs, as a pattern over its literal words (its
    placeholders match anything): found on a page in `lang`, it was not translated."""
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    # A word that is English and also the language's own ("Note" in Romanian) tells nothing.
    own = "\n".join(m.string for m in catalog if isinstance(m.string, str))
    out = []
    for m in catalog:
        if not m.id or not isinstance(m.id, str) or not m.string or m.string == m.id:
            continue
        pieces = [p for p in re.split(r"%\(\w+\)[sdf]", m.id) if p.strip()]
        longest = max(pieces, key=len, default="")
        # Short words ("Name", "video") are checked whole; anything shorter than four letters is no evidence.
        if sum(c.isalpha() for c in longest) < 4:
            continue
        pattern = re.compile(r"(?<![\w-])" + re.escape(longest.strip()) + r"(?![\w-])")
        if not pattern.search(own):
            out.append((m.id, pattern))
    return tuple(out)


# What pages show that is data, not kinlink's words: people's and staff's names, the stored reports.
DATA_SELECTORS = (
    ".document-text",
    "blockquote",
    "#provenance-title-text",
    ".account",
    "#users td:nth-child(-n+2)",
    "#decisions",
    "#files a",
)


def visible_words(page: Any) -> str:
    """The page's text (header navigation and main content), without what is data."""
    return page.evaluate(
        """(selectors) => {
            const main = document.querySelector('main').cloneNode(true);
            const nav = document.querySelector('header nav.main-nav');
            for (const sel of selectors) main.querySelectorAll(sel).forEach(e => e.remove());
            return (nav ? nav.innerText : '') + '\\n' + main.innerText;
        }""",
        list(DATA_SELECTORS),
    )


def english_left(page: Any, lang: str) -> list[str]:
    text = visible_words(page)
    return [msgid for msgid, pattern in english_texts(lang) if pattern.search(text)]


# Registry codes that must never reach a reader as they are stored.
RAW_CODES = re.compile(
    r"(?<![\w-])(captured|interned|transferred|hospitalised|seriously_ill|released|repatriated|pending|"
    r"confirmed|rejected|superseded|in_person|in_writing|capture_card|Cyrillic|Latin)(?![\w-])"
)


def raw_codes(page: Any) -> list[str]:
    return sorted(set(RAW_CODES.findall(visible_words(page))))
