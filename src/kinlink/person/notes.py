"""Notes kinlink writes on a person's history, as data: each door renders them in its reader's language
(the web pages translate them; exports, the API and the CLI give this English)."""

from __future__ import annotations

from typing import Any

REPORTED = "reported"  # a sighting read from a report: what it says happened, and how it was shown


def reported(status: str, via: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The note of a sighting's event: {"kind": "reported", "status": "captured", "via": ["video"]}."""
    return {"kind": REPORTED, "status": status, "via": list(via)}


def note_english(message: dict[str, Any] | None) -> str | None:
    """A note's English words: 'reported captured (video, telegram)'."""
    if not message:
        return None
    if message.get("kind") == REPORTED:
        via = message.get("via") or []
        return f"reported {message.get('status')}" + (f" ({', '.join(via)})" if via else "")
    return None
