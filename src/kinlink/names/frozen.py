"""A quicker `__init__` for the frozen dataclasses the name functions make by the million.

A frozen dataclass's generated `__init__` sets each field through `object.__setattr__(self, name, value)`
(the frozen class's own `__setattr__` refuses): a look-up by name a field, twice the cost of setting it.
A search makes such objects for every candidate it reads (a parsed name from the index's columns) and every
new pair of names it compares (readings, family forms, part comparisons): their `__init__` was a tenth of a
batch search's CPU (issue 19). `quick_init` gives the class an `__init__` of the same signature and effect
that sets the slots through their descriptors, or a class without slots through its instance dict.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Applied above @dataclass(frozen=True): the same fields, order, defaults and default factories;
    a class with `__post_init__` or init-only fields is left as it is."""
    params = [f for f in fields(cls) if f.init]  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or any(not f.init for f in fields(cls)):  # type: ignore[arg-type]
        return cls
    names = [f.name for f in params]
    scope: dict[str, Any] = {"_MISSING": MISSING}
    args, body = [], []
    for f in params:
        if f.default is not MISSING:
            scope[f"_d_{f.name}"] = f.default
            args.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not MISSING:
            scope[f"_f_{f.name}"] = f.default_factory
            args.append(f"{f.name}=_MISSING")
            body.append(f" if {f.name} is _MISSING: {f.name} = _f_{f.name}()")
        else:
            args.append(f.name)
    if "__slots__" in cls.__dict__:
        for name in names:
            scope[f"_s_{name}"] = cls.__dict__[name].__set__  # the slot's descriptor
            body.append(f" _s_{name}(self, {name})")
    else:
        body.append(" d = self.__dict__")
        body += [f" d[{name!r}] = {name}" for name in names]
    source = f"def __init__(self, {', '.join(args)}):\n" + "\n".join(body or [" pass"]) + "\n"
    # Compiled under the class's name, so that a profile tells the classes' __init__s apart.
    exec(compile(source, f"<quick_init {cls.__module__}.{cls.__qualname__}>", "exec"), scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls
