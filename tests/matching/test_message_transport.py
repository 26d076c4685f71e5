"""A hit's messages sent between processes (a batch's workers pickle every hit's evidence back): a message
comes back equal, with the same text, data, hash and repr, nested messages too, built by its `__init__`; a
subclass (`errors.Problem`) keeps its own fields."""

from __future__ import annotations

import copy
import pickle
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinlink.errors import Problem, problem
from kinlink.messages import Message, say

_names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
_plain = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12))


def _message(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Message]:
    return st.builds(
        lambda text, kv: say(text + "".join(f" %({k})s" for k in sorted(kv)), **kv),
        st.text(alphabet="abc %d", max_size=8).map(lambda s: s.replace("%", "%%")),
        st.dictionaries(_names, values, max_size=4),
    )


_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_messages = st.recursive(_message(_plain), lambda inner: _message(st.one_of(_plain, inner)), max_leaves=8)


def _same(a: Message, b: Message) -> None:
    assert type(a) is type(b)
    assert a == b and hash(a) == hash(b) and repr(a) == repr(b)
    assert a.text() == b.text() and a.to_data() == b.to_data() and a.ids() == b.ids()


@_SETTINGS
@given(_messages, st.integers(min_value=0, max_value=pickle.HIGHEST_PROTOCOL))
def test_a_message_pickled_comes_back_the_same(m: Message, protocol: int) -> None:
    _same(pickle.loads(pickle.dumps(m, protocol=protocol)), m)
    _same(copy.deepcopy(m), m)
    _same(copy.copy(m), m)


@_SETTINGS
@given(_messages)
def test_a_message_made_by_keywords_or_positions_is_the_same(m: Message) -> None:
    _same(Message(message=m.message, values=m.values), m)
    _same(Message(m.message, m.values), m)
    assert Message(m.message) == Message(m.message, ())


@_SETTINGS
@given(st.one_of(st.none(), _names), _messages, st.integers(min_value=0, max_value=pickle.HIGHEST_PROTOCOL))
def test_a_problem_pickled_keeps_its_field(field: str | None, m: Message, protocol: int) -> None:
    p = Problem(field, m.message, m.values)
    again = pickle.loads(pickle.dumps(p, protocol=protocol))
    _same(again, p)
    assert again.field == field
    assert problem("f", "bad %(x)s", x=1) == Problem("f", "bad %(x)s", (("x", 1),))


def test_a_message_stays_frozen() -> None:
    m = Message("a")
    try:
        m.message = "b"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("a message was changed")
