"""names.frozen.quick_init: the same objects as the dataclass's own __init__ makes."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from kinlink.matching.record import MatchRecord
from kinlink.names import parse_name
from kinlink.names.frozen import quick_init
from kinlink.names.parse import ParsedName


@dataclass(frozen=True)
class _Plain:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


@quick_init
@dataclass(frozen=True)
class _Quick:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


@quick_init
@dataclass(frozen=True, slots=True)
class _QuickSlots:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


@pytest.mark.parametrize("cls", [_Quick, _QuickSlots])
def test_same_fields_defaults_and_factories(cls: type) -> None:
    for args, kwargs in (((1,), {}), ((1, "x"), {}), ((), {"a": 2, "c": [3]}), ((4,), {"b": "y"})):
        quick, plain = cls(*args, **kwargs), _Plain(*args, **kwargs)
        assert dataclasses.astuple(quick) == dataclasses.astuple(plain)
    assert cls(1).c is not cls(1).c  # a new list each time, as default_factory gives
    with pytest.raises(TypeError):
        cls()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cls(1).a = 2  # type: ignore[misc]
    assert cls(1, "x") == cls(1, "x") != cls(2, "x")
    assert dataclasses.replace(cls(1), b="z") == cls(1, "z")


def test_classes_of_the_name_library_and_matcher() -> None:
    p = parse_name("Пактышев Леонид Андреевич")
    parts = (p.original, p.family, p.given, p.patronymic, p.initials, p.script, p.language, p.sex, p.order)
    rebuilt = ParsedName(*parts)
    assert rebuilt == p and pickle.loads(pickle.dumps(rebuilt)) == p
    r = MatchRecord(1, "Пактышев Леонид", sex="m")
    assert (r.kind, r.extra, r.other_names) == ("record", {}, ())
    assert pickle.loads(pickle.dumps(r)) == r
