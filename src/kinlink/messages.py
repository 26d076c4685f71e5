"""Messages as data: what the core and the domain say to a person, kept as an English message id and its
values, so that each door renders it in its reader's language.

The message is also the key its translations are filed under (`%(name)s` placeholders filled from the
values). A value may itself be a message ("same family name (%(detail)s)" with the detail "Гаврилов is the
genitive of Гаврилов"): it is rendered with the same translator. The web pages translate; the CLI and the
API give English unless asked for another language. Refusals (`kinlink.errors.Problem`) are messages that
also name a field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, SupportsIndex

Translate = Callable[[str], str]


def message_id(message: str) -> str:
    """Marks an English message kept in a constant or a table as a message id (`pybabel extract -k
    message_id` finds it)."""
    return message


@dataclass(frozen=True, slots=True)
class Message:
    message: str  # English, with %(name)s placeholders; also the msgid of its translations
    values: tuple[tuple[str, Any], ...] = ()

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        # Pickled as its class and its two fields, made again by `__init__`: a batch's workers send every
        # hit's evidence so, and a slotted dataclass's state (a list set back field by field through
        # object.__setattr__) cost twice as much to send and to read (issue 19). A subclass (`Problem`)
        # keeps the default, which knows its other fields.
        if type(self) is Message:
            return (Message, (self.message, self.values))
        return object.__reduce_ex__(self, protocol)  # not super(): slots=True makes the class anew

    def text(self, translate: Translate | None = None) -> str:
        """The message filled in, translated first (and its message values too) when a `gettext` is given."""
        message = translate(self.message) if translate is not None and self.message else self.message
        if not self.values:
            return message
        return message % {k: v.text(translate) if isinstance(v, Message) else v for k, v in self.values}

    def __str__(self) -> str:
        return self.text()

    def value(self, name: str, default: Any = None) -> Any:
        for k, v in self.values:
            if k == name:
                return v
        return default

    def ids(self) -> set[str]:
        """Every message id in this message and its values (to check that each has its translations)."""
        out = {self.message}
        for _k, v in self.values:
            if isinstance(v, Message):
                out |= v.ids()
        return out

    def to_data(self) -> dict[str, Any]:
        """JSON-ready: {"id": ..., "values": {...}}, message values nested the same way."""
        return {
            "id": self.message,
            "values": {k: v.to_data() if isinstance(v, Message) else v for k, v in self.values},
        }

    def to_json(self, translate: Translate | None = None) -> dict[str, Any]:
        """`to_data` with the text filled in (English, or translated by `translate`)."""
        return {**self.to_data(), "text": self.text(translate)}


def _quick_init(cls: type[Message]) -> None:
    """`Message.__init__` setting the two slots through their descriptors: the generated one of a frozen
    dataclass sets each through `object.__setattr__` by name, twice the cost, and a search makes a dozen
    messages a hit it explains (issue 19). The same signature and effect."""
    set_message, set_values = cls.__dict__["message"].__set__, cls.__dict__["values"].__set__

    def __init__(self: Message, message: str, values: tuple[tuple[str, Any], ...] = ()) -> None:
        set_message(self, message)
        set_values(self, values)

    __init__.__qualname__ = "Message.__init__"
    cls.__init__ = __init__  # type: ignore[method-assign]


_quick_init(Message)


def say(msgid: str, /, **values: Any) -> Message:
    """`say("%(a)s is the genitive of %(b)s", a="Сергея", b="Сергей")`."""
    return Message(msgid, tuple(sorted(values.items())))


def from_data(data: Mapping[str, Any] | str | None) -> Message | None:
    """The message `to_data` wrote (a plain string: a message without values; None: none)."""
    if data is None:
        return None
    if isinstance(data, str):
        return Message(data)
    values = data.get("values") or {}
    return Message(
        str(data.get("id", "")),
        tuple(
            sorted(
                (k, from_data(v) if isinstance(v, Mapping) and "id" in v else v) for k, v in values.items()
            )
        ),
    )
