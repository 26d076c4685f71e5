"""The bureau that runs this kinlink: its name (on cards and certificates) and its working language (the
detaining power's, in which its cards are written beside the prisoner's). From KINLINK_BUREAU_NAME and
KINLINK_BUREAU_LANGUAGE; certificates' serial numbers begin with KINLINK_BUREAU_PREFIX."""

from __future__ import annotations

from dataclasses import dataclass, field

from kinlink.environment import env_str


@dataclass(frozen=True)
class Bureau:
    name: str = field(
        default_factory=lambda: env_str("KINLINK_BUREAU_NAME", "National Information Bureau (kinlink)")
    )
    language: str = field(default_factory=lambda: env_str("KINLINK_BUREAU_LANGUAGE", "en").strip().lower())
    # Certificates' serial numbers start with it: KL-2026-000042.
    serial_prefix: str = field(default_factory=lambda: env_str("KINLINK_BUREAU_PREFIX", "KL").strip())
