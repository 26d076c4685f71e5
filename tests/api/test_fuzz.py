"""Property-based fuzzing of the REST API from its own OpenAPI description (schemathesis), against a real
server: valid and invalid requests of every operation, with a token of a role allowed to call it, never
get a 5xx. The texts of JSON bodies are drawn partly from hostile text: lone surrogates (sent as JSON
escapes), control characters and bidi overrides and isolates. Bounded and derandomized, so every run sends
the same requests."""

from __future__ import annotations

import contextlib
import json
from copy import deepcopy
from typing import Any

import httpx
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import Engine

from kinlink.accounts import tokens as api_tokens
from kinlink.accounts import users
from kinlink.registry import attachments
from kinlink.registry.certificates import issue_certificate
from kinlink.registry.remains import add_remains
from kinlink.store.db import unit_of_work
from kinlink.tracing.continuous import match_request
from kinlink.tracing.requests import Enquirer, SoughtPerson, create_request
from tests.support import MATCHING, add_record

EXAMPLES = 6  # per operation and kind of example: about 700 requests in all
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HOSTILE = ["\ud800", "\udfff", "\udc80", "\x00", "\x1b", "\u202e", "\u202a", "\u2066", "\u2069", "\u200f"]
HOSTILE_TEXT = "kinlink-hostile-text"
# Ordinary text, or ordinary text with hostile characters mixed in (JSON can carry a lone surrogate as an
# escape; schemathesis sends bodies with json.dumps, which escapes it).
schemathesis.openapi.format(
    HOSTILE_TEXT,
    st.one_of(
        st.text(max_size=30),
        st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=5)), min_size=1, max_size=6).map(
            "".join
        ),
    ),
)


def _hostile_bodies(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with every plain text of a JSON request body drawn from hostile text (query strings and
    multipart bodies keep theirs: a lone surrogate cannot be encoded there at all)."""
    schemas = spec.get("components", {}).get("schemas", {})
    names: set[str] = set()
    for operations in spec["paths"].values():
        for op in operations.values():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                names.add(ref.rsplit("/", 1)[1])

    def mark(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and not {"format", "enum", "pattern", "const"} & set(node):
                node["format"] = HOSTILE_TEXT
            for value in node.values():
                mark(value)
        elif isinstance(node, list):
            for value in node:
                mark(value)

    for name in names:
        mark(schemas[name])
    assert names, "no JSON request bodies found"
    return spec


def _world(engine: Engine, staff: dict[str, tuple[str, str]]) -> tuple[dict[str, str], dict[str, int]]:
    """Tokens per role, and ids of real rows for the operations that name one."""
    with unit_of_work(engine) as s:
        tokens = {
            role: api_tokens.create_token(s, "test", users.find_user(s, user).id, "fuzz")[1]
            for role, (user, _pw) in staff.items()
        }
        person = add_record(
            s,
            "test",
            {
                "full_name": "Пактишев Леонід Андрійович",
                "birth_date": "1993",
                "consent_inform_family": True,
                "status": "captured",
            },
        )
        cert = issue_certificate(s, "test", str(person.id), base_url="http://kinlink.test", recipient="Анна")
        att = attachments.add(s, "test", person.id, "photo", "face.png", PNG, 1 << 20)
        req, _secret = create_request(
            s, "test", SoughtPerson(full_name="Пактышев Леонид Андреевич"), Enquirer(name="Анна")
        )
        s.flush()
        match_request(s, "test", req.id)
        # The user operations act on an account of their own: fuzzing them must not disable the tokens
        # the other operations use.
        target = users.create_user(s, "test", "fuzz-target", "fuzz target password", "caseworker")
        ids = {
            "person_id": person.id,
            "attachment_id": att.id,
            "request_id": req.id,
            "candidate_id": 1,
            "message_id": 1,
            "user_id": target.id,
            "kind": "capture",
            "certificate_id": cert.certificate.id,
            "remains_id": add_remains(
                s, "test", {"found_date": "2022-04-02", "recovered_by": "a search team"}, matching=MATCHING
            )
            .remains[0]
            .id,
        }
    return tokens, ids


def _roles(app: Any) -> dict[tuple[str, str], tuple[str, ...]]:
    out = {}
    for route in app.routes:
        if isinstance(route, APIRoute):
            for dep in route.dependant.dependencies:
                roles = getattr(dep.call, "roles", None)
                if roles:
                    out.update({(m, route.path): roles for m in route.methods})
    return out


def _fuzz(strategy: Any, base_url: str, headers: dict[str, str], hostile: list[str]) -> tuple[int, list[str]]:
    """Send the strategy's examples; the count sent and the 5xx answers (the hostile characters sent are
    added to `hostile`)."""
    sent: list[int] = []
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case: Any) -> None:
        r = case.call(base_url=base_url, headers=headers, timeout=60)
        sent.append(r.status_code)
        text = json.dumps(case.body, ensure_ascii=False, default=str) if case.body is not None else ""
        hostile.extend(c for c in HOSTILE if c in text)
        if r.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} {case.query} -> {r.status_code}: {str(case.body)[:200]}"
            )

    with contextlib.suppress(Unsatisfiable):  # nothing invalid can be made (no parameters, no body)
        call()
    return len(sent), failures


def test_fuzzing_the_api_finds_no_server_error(engine: Engine, server, staff) -> None:  # type: ignore[no-untyped-def]
    tokens, ids = _world(engine, staff)
    spec = httpx.get(server.url + "/openapi.json").json()
    schema = schemathesis.openapi.from_dict(spec)
    # Valid requests with hostile text: only where the body must be valid, since schemathesis checks that
    # an invalid body is invalid with a validator that cannot read a lone surrogate.
    hostile = {
        (op.method, op.path): op
        for op in (
            r.ok()
            for r in schemathesis.openapi.from_dict(_hostile_bodies(deepcopy(spec))).get_all_operations()
        )
    }
    roles = _roles(server.app)
    failures: list[str] = []
    sent_hostile: list[str] = []
    calls = 0
    operations = [r.ok() for r in schema.get_all_operations()]
    # Users last: with an id drawn at random they may change the role of the accounts whose tokens the
    # other operations use (which ends those tokens).
    operations.sort(key=lambda op: op.path.startswith("/api/v1/users"))
    assert len(operations) >= 30
    for op in operations:
        allowed = roles[(op.method.upper(), op.path)]
        role = next((r for r in ("registrar", "caseworker", "admin") if r in allowed), None)
        headers = (
            {} if "anonymous" in allowed or role is None else {"authorization": f"Bearer {tokens[role]}"}
        )
        fixed = {p.name: ids[p.name] for p in op.path_parameters}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in ({}, fixed) if fixed else ({},):
                source = hostile[(op.method, op.path)] if mode == GenerationMode.POSITIVE else op
                strategy = source.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)
                n, failed = _fuzz(strategy, server.url, headers, sent_hostile)
                calls += n
                failures += failed
    assert calls > 300
    # Lone surrogates, controls and bidi controls were all sent, and many times.
    assert {"\ud800", "\u202e", "\u2066"} <= set(sent_hostile) and len(sent_hostile) > 50, set(sent_hostile)
    assert not failures, "\n".join(failures[:20])
    # The server still serves (the admin's own token: the user operations may have changed the others).
    me = httpx.get(server.url + "/api/v1/me", headers={"authorization": f"Bearer {tokens['admin']}"})
    assert me.status_code == 200
