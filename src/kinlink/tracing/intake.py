"""Filing a tracing request: the one action behind the family's web form, the API and `kinlink request add`.

A family's answers are checked field by field (every problem reported at once), the request is written
with its reference and secret, matched against the registry in a savepoint (a failure there does not lose
the request) and, when the enquirer gave an email address, an email is queued for after the commit.
Families filing on their own are limited per address; staff filing for a family (the CLI, a staff token)
are named in the audit instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kinlink.accounts.throttle import RateLimiter
from kinlink.errors import Problem, Refused, invalid, problem
from kinlink.i18n import LANGUAGES
from kinlink.person.partial_dates import DateError, parse_partial_date
from kinlink.person.text import text_problem
from kinlink.store.casework_models import Notification
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.continuous import Matching, match_in_savepoint
from kinlink.tracing.mail import MailSettings
from kinlink.tracing.notifications import EMAIL, queue
from kinlink.tracing.requests import Enquirer, SoughtPerson, create_request

# The fields of a request, each with the most characters it may hold; every door offers these.
TEXT_LIMITS = {
    "full_name": 400,
    "other_names": 1000,
    "place_of_birth": 300,
    "rank": 200,
    "unit": 300,
    "service_number": 100,
    "capture_place": 300,
    "last_seen": 2000,
    "enquirer_name": 400,
    "relationship": 100,
    "contact": 400,
}
MULTILINE = frozenset({"other_names", "last_seen"})  # the others are one line: no tab, no line break
OTHER_FIELDS = ("sex", "birth_date", "age", "age_as_of", "capture_date", "language", "agree")
FIELDS = (*TEXT_LIMITS, *OTHER_FIELDS)
AGREED = (True, "1", "on", "yes", "true")
MAX_AGE = 120
_YEARS = re.compile(r"^\s*(\d{4})\s*(?:-|–|\.\.)\s*(\d{4})\s*$")
_DATE_HINT = "write a date as YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY"


@dataclass(frozen=True)
class Filer:
    """Who files: a family on its own, from an address (limited per address), or a staff member filing
    for a family (not limited; `actor` names them in the audit)."""

    actor: str
    address: str | None = None  # None: staff

    @property
    def is_staff(self) -> bool:
        return self.address is None


@dataclass
class Filed:
    request: TracingRequest
    secret: str  # shown once, never stored
    notification: Notification | None  # the email with the reference and the secret, if an address was given
    candidates: int = 0  # found at once, for a caseworker's review
    # Whether that email will really be sent: only with an address and an SMTP server. The family is told
    # the truth, so that without an email it writes the reference and the secret down now.
    emailed: bool = False


def _clean(values: dict[str, Any], key: str) -> str | None:
    raw = values.get(key)
    s = str(raw).strip() if raw is not None else ""
    return s or None


def _birth(text: str, errors: list[Problem]) -> tuple[str | None, int | None]:
    """A partial date, or a range of birth years ('1992-1994')."""
    years = _YEARS.match(text)
    try:
        if years:
            first, last = int(years[1]), int(years[2])
            if last < first:
                errors.append(problem("birth_date", "a range of birth years ends before it starts"))
                return None, None
            return parse_partial_date(years[1]).iso(), last
        return parse_partial_date(text).iso(), None
    except DateError:
        errors.append(problem("birth_date", _DATE_HINT))
        return None, None


def parse_request(values: dict[str, Any]) -> tuple[SoughtPerson, Enquirer]:
    """A family's answers checked field by field; every problem is reported at once (Refused 'invalid')."""
    errors: list[Problem] = []
    for key in sorted(set(values) - set(FIELDS)):
        errors.append(problem(key, "is not a field of a tracing request"))
    for key in FIELDS:
        found = text_problem(values.get(key), multiline=key in MULTILINE)
        if found:
            errors.append(problem(key, found[0], **found[1]))
    if errors:
        raise invalid(errors)
    v = {k: _clean(values, k) for k in FIELDS}
    for key, limit in TEXT_LIMITS.items():
        if v[key] and len(v[key] or "") > limit:
            errors.append(problem(key, "at most %(n)s characters", n=limit))
    if not v["full_name"] or not any(c.isalpha() for c in v["full_name"]):
        errors.append(problem("full_name", "the name of the person you are looking for is needed"))
    if not v["enquirer_name"] or not any(c.isalpha() for c in v["enquirer_name"]):
        errors.append(problem("enquirer_name", "your name is needed"))
    if v["sex"] and v["sex"] not in ("m", "f"):
        errors.append(problem("sex", "choose male, female or leave it empty"))
    birth_date, year_to = _birth(v["birth_date"], errors) if v["birth_date"] else (None, None)
    capture_date = None
    if v["capture_date"]:
        try:
            capture_date = parse_partial_date(v["capture_date"] or "").iso()
        except DateError:
            errors.append(problem("capture_date", _DATE_HINT))
    age, age_as_of = None, None
    if v["age"]:
        try:
            age = int(v["age"] or "")
            if not 0 <= age <= MAX_AGE:
                raise ValueError
        except ValueError:
            errors.append(problem("age", "an age is a number of years from 0 to %(n)s", n=MAX_AGE))
    if v["age_as_of"]:
        try:
            age_as_of = parse_partial_date(v["age_as_of"] or "").iso()
        except DateError:
            errors.append(problem("age_as_of", _DATE_HINT))
    if (v["age"] is None) != (v["age_as_of"] is None):
        errors.append(problem("age_as_of", "an age needs the date it was true on"))
    contact = v["contact"]
    if contact and "@" in contact and not EMAIL.match(contact):
        errors.append(problem("contact", "this email address is not valid"))
    if values.get("agree") not in AGREED:
        errors.append(problem("agree", "please agree to the use of this information for tracing"))
    if v["language"] and v["language"] not in LANGUAGES:
        errors.append(problem("language", "the language is one of %(langs)s", langs=", ".join(LANGUAGES)))
    if errors:
        raise invalid(errors)
    others = [n.strip() for n in (v["other_names"] or "").replace("\n", "|").split("|") if n.strip()]
    sought = SoughtPerson(
        full_name=v["full_name"] or "",
        other_names=others,
        sex=v["sex"],
        birth_date=birth_date,
        birth_year_to=year_to,
        age=age,
        age_as_of=age_as_of,
        place_of_birth=v["place_of_birth"],
        rank=v["rank"],
        unit=v["unit"],
        service_number=v["service_number"],
        capture_place=v["capture_place"],
        capture_date=capture_date,
        last_seen=v["last_seen"],
    )
    enquirer = Enquirer(
        name=v["enquirer_name"] or "", relationship=v["relationship"], contact=contact, language=v["language"]
    )
    return sought, enquirer


def file_request(
    session: Session,
    filer: Filer,
    values: dict[str, Any],
    *,
    matching: Matching,
    limiter: RateLimiter | None = None,
    mail: MailSettings | None = None,
) -> Filed:
    """File a family's request and look for candidates at once.

    A family filing on its own counts against its address's limit (with `limiter`), before anything is
    written; a refused form is not counted. Returns the request, its secret and the email to send (sent
    only through `mail`'s SMTP server; without one it is recorded as skipped).
    """
    hits = None
    if not filer.is_staff and limiter is not None:
        hits = limiter.take_one("file-request", filer.address or "", limiter.quotas.requests_filed_per_ip)
    try:
        sought, enquirer = parse_request(values)
        req, secret = create_request(session, filer.actor, sought, enquirer)
    except Refused:
        if hits is not None and limiter is not None:
            limiter.release(hits)
        raise
    found = match_in_savepoint(session, filer.actor, matching, request_id=req.id)
    note = queue(session, req, "request_filed")
    emailed = note is not None and mail is not None and bool(mail.host)
    return Filed(req, secret, note, found.created if found else 0, emailed)
