"""The bureau that runs this kinlink: its name (on cards and certificates) and its working language (the
detaining power's, in which its cards are written beside the prisoner's). From KINLINK_BUREAU_NAME and
KINLINK_BUREAU_LANGUAGE; certificates' serial numbers begin with KINLINK_BUREAU_PREFIX. What families are told
of a death known only from open sources or a member of the public, from KINLINK_UNCONFIRMED_DEATHS:
"under_verification" (told as a report under verification, the default) or "withhold" (not told at all)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kinlink.environment import env_str


@dataclass(frozen=True)
class Bureau:
    name: str = field(
        default_factory=lambda: env_str("KINLINK_BUREAU_NAME", "National Information Bureau (kinlink)")
    )
    language: str = field(default_factory=lambda: env_str("KINLINK_BUREAU_LANGUAGE", "en").strip().lower())
    # Certificates' serial numbers start with it: KL-2026-000042.
    serial_prefix: str = field(default_factory=lambda: env_str("KINLINK_BUREAU_PREFIX", "KL").strip())
    # A death known only from open sources or the public: told as a report under verification, or not at all.
    unconfirmed_deaths: Literal["under_verification", "withhold"] = field(
        default_factory=lambda: _unconfirmed_deaths(env_str("KINLINK_UNCONFIRMED_DEATHS", UNDER_VERIFICATION))
    )


UNDER_VERIFICATION = "under_verification"
WITHHOLD = "withhold"


def _unconfirmed_deaths(value: str) -> Literal["under_verification", "withhold"]:
    value = value.strip().lower()
    if value == WITHHOLD:
        return "withhold"
    if value != UNDER_VERIFICATION:
        raise ValueError(
            f"KINLINK_UNCONFIRMED_DEATHS must be {UNDER_VERIFICATION} or {WITHHOLD}, not {value!r}"
        )
    return "under_verification"
