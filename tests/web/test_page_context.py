"""A page's calls of plain functions skip Jinja's context lookups (`render.PageContext`) and give what
Jinja's own `Context.call` gives: in loops and blocks, for bound methods, for functions that ask for the
context, for a callable that raises StopIteration. And a page's path is its URL's (`render.page_path`)."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import DictLoader, Environment, pass_context, pass_environment
from jinja2.runtime import Context
from starlette.requests import Request

from kinlink.web.render import PageContext, environment, page_path

TEMPLATES = {
    "base.html": "<{% block body %}{% endblock %}>",
    "page.html": """{% extends "base.html" %}{% block body %}
{{ _("plain %(n)s", n=1) }}|{% for i in items %}{{ _("in a loop") }}{{ twice(i) }}{% endfor %}
|{{ greeter.greet("you") }}|{{ who_asks() }}|{{ which_env() }}|{{ counter() }}|[{{ empty() }}]
{% set x = 3 %}{{ twice(x) }}{% for i in items %}{% set y = i %}{{ who_asks() }}{% endfor %}
{% endblock %}""",
}


class Greeter:
    def greet(self, name: str) -> str:
        return f"hello {name}"


@pass_context
def who_asks(ctx: Context) -> str:
    return f"{type(ctx).__name__}:{ctx.get('i', '-')}:{ctx.get('y', '-')}"


@pass_environment
def which_env(env: Environment) -> str:
    return str(env.trim_blocks)


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def _stops() -> Iterator[str]:
    return next(iter([]))


def _render(context_class: type[Context]) -> str:
    env = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    env.context_class = context_class
    return env.get_template("page.html").render(
        _=lambda message, **values: message % values if values else message,
        twice=lambda v: 2 * v,
        items=[1, 2],
        greeter=Greeter(),
        who_asks=who_asks,
        which_env=which_env,
        counter=Counter(),
        empty=_stops,
    )


def test_a_page_renders_as_with_jinjas_own_context() -> None:
    theirs = _render(Context).replace("Context:", "X:")
    ours = _render(PageContext).replace("PageContext:", "X:")
    assert ours == theirs
    assert ours == "<\nplain 1|in a loop2in a loop4\n|hello you|X:-:-|False|1|[]\n6X:-:1X:-:2\n>"


def test_the_sites_templates_use_it() -> None:
    assert environment().context_class is PageContext


SCOPES = [
    {"server": ("127.0.0.1", 8000), "headers": [(b"host", b"127.0.0.1:8000")]},
    {"server": ("127.0.0.1", 80), "headers": []},
    {"server": None, "headers": []},
    {"server": None, "headers": [(b"host", b"bad host/x?y")]},
    {"server": ("::1", 443), "headers": [(b"host", b"[::1]:443")], "scheme": "https", "root_path": "/kl"},
]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="/?#\\\t\r\n %:@a.é\x01", max_size=12))
def test_a_pages_path_is_the_urls_path(tail: str) -> None:
    for path in ("/" + tail, "//" + tail, "/family", "/lang/uk"):
        for extra in SCOPES:
            scope = {"type": "http", "scheme": "http", "path": path, "query_string": b"a=1", **extra}
            assert page_path(Request(scope)) == Request(scope).url.path, (path, extra)
