"""The one check every text entering kinlink passes: is it text a person could have meant?

Pure. Refused, wherever text comes in (a form, a JSON body, a command line, a file's cell):
- C0 control characters and DEL: no name or note holds one, PostgreSQL cannot store NUL at all, and they
  hide text in a page or a terminal. Tab, newline and carriage return are allowed in multi-line text (a
  note, an address), and in a one-line text (a name, a date) only around it, where they are stripped;
- lone surrogates (U+D800-U+DFFF): not Unicode text at all. JSON escapes (`"\\ud800"`) and undecodable bytes
  on a command line (surrogateescape) make them; no database can store them, and UTF-8 cannot encode them;
- bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder what staff see, so a
  name or a note can be made to read as something else. The marks U+200E/U+200F and the joiners
  U+200C/U+200D, which some scripts need, stay allowed.

Values inside lists and dicts are checked too, without recursion: a value nested deeper than MAX_DEPTH is
refused as such rather than walked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_ANY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_ANY_ONE_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def message_id(message: str) -> str:
    """Marks an English message kept in a constant as a message id (`pybabel extract -k message_id`)."""
    return message


# English messages, also the message ids of their translations; `char` is the character as 'U+0000'.
CONTROL = message_id("contains a control character (%(char)s): remove it")
SURROGATE = message_id(
    "contains %(char)s, which is not a character of any text (a lone surrogate): remove it"
)
BIDI = message_id("contains a bidirectional control character (%(char)s), which can disguise text: remove it")
TOO_DEEP = message_id("is nested more than %(n)s levels deep")

# A person's record, an event list, a sighting: nothing a registrar sends is nested deeper than a handful
# of levels. The bound keeps every walk over a value (this check, json, the database driver) far from
# Python's recursion limit.
MAX_DEPTH = 20


def text_problem(value: Any, *, multiline: bool = True) -> tuple[str, dict[str, Any]] | None:
    """Why this value is not acceptable text: (English message with %(name)s placeholders, its values).
    `multiline=False`: a one-line text, in which tab and line breaks are refused too (but at its ends)."""
    found = _first(value, multiline)
    if found is None:
        return None
    message, char = found
    return message, ({"n": MAX_DEPTH} if message == TOO_DEEP else {"char": char})


def plain_texts(values: Iterable[Any]) -> bool:
    """True when every value is text (or None) holding nothing `text_problem` refuses, even in one-line text.

    One search over a whole row instead of one walk a column: a registrar's file is nearly all plain text,
    and an import checks every cell of every row (issue 19). False means only "check each value".
    """
    parts = []
    for v in values:
        if v is None:
            continue
        if type(v) is not str:
            return False
        parts.append(v)
    return _ANY_ONE_LINE.search("".join(parts)) is None


def plain_text(text: str) -> bool:
    """True when the text holds nothing `text_problem` refuses, even in one-line text (see `plain_texts`)."""
    return _ANY_ONE_LINE.search(text) is None


def describe(value: Any, *, multiline: bool = True) -> str | None:
    """The problem as a plain English text (for a row's error in an import, a pydantic error)."""
    found = text_problem(value, multiline=multiline)
    return found[0] % found[1] if found else None


def _first(value: Any, multiline: bool = True) -> tuple[str, str] | None:
    pattern = _ANY if multiline else _ANY_ONE_LINE
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            bad = pattern.search(item if multiline else item.strip(" \t\r\n"))
            if bad is not None:
                char = bad.group()
                code = f"U+{ord(char):04X}"
                if _SURROGATE.match(char):
                    return SURROGATE, code
                if _BIDI.match(char):
                    return BIDI, code
                return CONTROL, code
            continue
        if isinstance(item, dict):
            item = [*item.keys(), *item.values()]
        elif not isinstance(item, list | tuple):
            continue
        if depth >= MAX_DEPTH:
            return TOO_DEEP, ""
        stack.extend((v, depth + 1) for v in reversed(item))
    return None


class TooDeep(ValueError):
    """A JSON text nested deeper than allowed; `key` names the top-level key it is under ("" if none)."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


def json_too_deep(text: str, limit: int = MAX_DEPTH) -> str | None:
    """None if the JSON text opens at most `limit` arrays or objects inside one another; else the key of
    the top-level object under which it goes deeper ("" when there is none).

    Counted before parsing (json's own parser recurses, and a deep enough text ends in RecursionError), and
    only when the text holds enough brackets to be that deep at all, so an ordinary row costs one count.
    """
    if text.count("[") + text.count("{") <= limit:
        return None
    depth, in_string, escaped, start, key = 0, False, False, 0, ""
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                if depth == 1:
                    key = text[start : i + 1]
        elif ch == '"':
            in_string, start = True, i
        elif ch in "[{":
            depth += 1
            if depth > limit:
                try:
                    name = json.loads(key) if key else ""
                except ValueError:
                    name = ""
                return name if isinstance(name, str) and not _ANY.search(name) else ""
        elif ch in "]}":
            depth -= 1
    return None


def loads_bounded(text: str, limit: int = MAX_DEPTH) -> Any:
    """json.loads, refusing (TooDeep) a text nested deeper than `limit` before it is parsed."""
    key = json_too_deep(text, limit)
    if key is not None:
        raise TooDeep(TOO_DEEP % {"n": limit}, key)
    return json.loads(text)
