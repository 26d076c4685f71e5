"""How an event of a person's history is known: its confirmation level (issue 21 item 4).

The ICRC's practice cross-checks what the parties' bureaus notify with open sources; what a family is told
depends on how a fact is known (a death seen only in a Telegram post is not told to a family as a fact).
Levels are ordered from the weakest to the strongest.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Confirmation(StrEnum):
    OPEN_SOURCE = "open_source"  # reported in open sources (news, Telegram channels)
    PUBLIC = "public"  # reported by a member of the public (a Person Finder note)
    FAMILY = "family"  # reported by the family
    DETAINING_POWER = "detaining_power"  # notified by the detaining power (its bureau, its lists)
    ICRC_VISIT = "icrc_visit"  # confirmed by an ICRC visit
    DOCUMENTS = "documents"  # confirmed by documents (a death certificate, identity papers)


LEVELS: tuple[str, ...] = tuple(c.value for c in Confirmation)
# Known only from what anyone may say: not told to a family as a fact.
UNCONFIRMED = frozenset({Confirmation.OPEN_SOURCE.value, Confirmation.PUBLIC.value})

# The level of an event nobody stated one for, by the kind of its source (kinlink.store.models.Source):
# a report read from the news or Telegram is an open source; a partner's exchange (PFIF) holds notes anyone
# could write; a registry's list or a record the bureau entered itself is what the detaining power notified.
BY_SOURCE_KIND = {
    "report": Confirmation.OPEN_SOURCE.value,
    "partner": Confirmation.PUBLIC.value,
    "registry": Confirmation.DETAINING_POWER.value,
}
DEFAULT = Confirmation.DETAINING_POWER.value

# Words a file or a form may use for a level.
ALIASES = {
    **{level: level for level in LEVELS},
    "open_sources": "open_source",
    "osint": "open_source",
    "media": "open_source",
    "member_of_the_public": "public",
    "witness": "public",
    "notified": "detaining_power",
    "notification": "detaining_power",
    "bureau": "detaining_power",
    "official": "detaining_power",
    "icrc": "icrc_visit",
    "visit": "icrc_visit",
    "document": "documents",
    "documented": "documents",
}


def parse_level(value: str | None) -> str | None:
    """A level from what a file or a form says ('ICRC visit', 'open-sources'), or None if it is not one."""
    if value is None:
        return None
    key = "_".join(str(value).strip().lower().replace("-", " ").split())
    return ALIASES.get(key)


def default_level(source_kind: str | None) -> str:
    return BY_SOURCE_KIND.get(source_kind or "", DEFAULT)


def strongest(levels: Iterable[str | None]) -> str | None:
    """The best-confirmed of the levels (a fact reported twice is as well known as its best report)."""
    known = [lvl for lvl in levels if lvl in LEVELS]
    return max(known, key=LEVELS.index) if known else None


def is_confirmed(level: str | None) -> bool:
    """Known from more than what anyone may say (an event without a level counts as confirmed: it was
    recorded by the bureau before levels were kept)."""
    return level not in UNCONFIRMED


# The levels in English words (the CLI's; the web pages and certificates translate the same words).
LABELS = {
    "open_source": "reported in open sources",
    "public": "reported by a member of the public",
    "family": "reported by the family",
    "detaining_power": "notified by the detaining power",
    "icrc_visit": "confirmed by an ICRC visit",
    "documents": "confirmed by documents",
}
