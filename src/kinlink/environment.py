"""Settings read from the environment (KINLINK_*): the same parsing for every part that has settings; and the
cores the process may run on."""

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


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system tells it, else the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
