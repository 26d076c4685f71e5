"""Settings read from the environment (KINLINK_*): the same parsing for every part that has settings."""

from __future__ import annotations

import os


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default
