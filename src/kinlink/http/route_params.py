"""A request's path, query, header and cookie parameters read with each parameter's facts worked out once per
route, not once per request (issue 19).

FastAPI's `request_params_to_args` asks of every parameter, at every request, whether it is a model of
parameters, a JSON field or a sequence, and which aliases it answers to: facts of the route's declaration,
which never change, and which took about as long as the validation itself (a third of FastAPI's dependency
solving for a search, of its four query parameters). `install()` puts in its place a function that keeps
those facts per list of parameters (a route's `Dependant` holds its lists for the process's life) and reads
and validates a plain parameter (one value, one alias, not JSON) exactly as FastAPI does: the same value
(`received.get(alias)`, None read as absent), the same location in an error, the same validation with the
same default. A list holding anything else is read by FastAPI's own function, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import params
from fastapi.dependencies import utils as _fastapi
from starlette.datastructures import FormData

# A parameter's facts: (its field, the request key it is read by, its location's name), or None when FastAPI
# reads it (a model of parameters, a JSON field, a sequence, several aliases).
_Fact = tuple[Any, str, str]
_PLANS: dict[int, tuple[Sequence[Any], list[_Fact] | None]] = {}
_ORIGINAL: Callable[..., tuple[dict[str, Any], list[Any]]] | None = None


def _fact(field: Any) -> _Fact | None:
    info = field.field_info
    if not isinstance(info, params.Param):
        return None
    if _fastapi._get_param_model(field) is not None or _fastapi._is_json_field(field):
        return None
    if _fastapi.field_annotation_is_sequence(info.annotation):
        return None
    aliases = _fastapi._get_param_aliases(field)
    if len(aliases) != 1:
        return None
    return (field, aliases[0][1], info.in_.value)


def _plan(fields: Sequence[Any]) -> list[_Fact] | None:
    """The facts of every parameter of the list, or None when FastAPI is to read any of them."""
    facts = [_fact(field) for field in fields]
    return None if any(f is None for f in facts) else facts  # type: ignore[return-value]


def request_params_to_args(
    fields: Sequence[Any], received_params: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Any]]:
    """FastAPI's `request_params_to_args`, with each list's facts kept (see the module's docstring)."""
    assert _ORIGINAL is not None
    if not fields:
        return {}, []
    planned = _PLANS.get(id(fields))
    if planned is None or planned[0] is not fields:  # the id of a list since collected: planned again
        planned = _PLANS[id(fields)] = (fields, _plan(fields))
    facts = planned[1]
    if facts is None or isinstance(received_params, FormData):
        return _ORIGINAL(fields, received_params)
    values: dict[str, Any] = {}
    errors: list[Any] = []
    validate = _fastapi._validate_value_with_model_field
    undefined = _fastapi.Undefined
    for field, key, where in facts:
        value = received_params.get(key, None)
        if value is None:
            value = undefined  # absent: the default, as FastAPI applies it in validation
        v_, errors_ = validate(field=field, value=value, values=values, loc=(where, key))
        if errors_:
            errors.extend(errors_)
        else:
            values[field.name] = v_
    return values, errors


def install() -> None:
    """Put `request_params_to_args` in FastAPI's dependency solving (once a process; any app's routes)."""
    global _ORIGINAL
    current = _fastapi.request_params_to_args
    if current is request_params_to_args:
        return
    _ORIGINAL = current
    _fastapi.request_params_to_args = request_params_to_args  # type: ignore[assignment]


def uninstall() -> None:
    """FastAPI's own function back (the tests compare the two)."""
    if _ORIGINAL is not None and _fastapi.request_params_to_args is request_params_to_args:
        _fastapi.request_params_to_args = _ORIGINAL  # type: ignore[assignment]
