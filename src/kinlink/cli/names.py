"""`kinlink names ...`: parse, explain and compare person names across scripts."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from kinlink.names import (
    MATCH_THRESHOLD,
    PartComparison,
    blocking_keys,
    canonical_given,
    compare,
    given_forms,
    parse_name,
    readings,
)
from kinlink.names.gendered import patronymic_of
from kinlink.names.translit import CONVENTION_LABELS

app = typer.Typer(no_args_is_help=True)
_console = Console()


def _part(pc: PartComparison | None) -> dict[str, Any] | None:
    if pc is None:
        return None
    return {"score": pc.score, "level": pc.level, "reason": pc.reason.text(), "message": pc.reason.to_data()}


@app.command("compare")
def compare_cmd(
    a: str = typer.Argument(..., help="First name, as written."),
    b: str = typer.Argument(..., help="Second name, as written."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Compare two names: a score in [0, 1], per-part levels and the reasons."""
    c = compare(a, b)
    if as_json:
        out = {
            "a": a,
            "b": b,
            "score": c.score,
            "match": c.is_match,
            "threshold": MATCH_THRESHOLD,
            "swapped": c.swapped,
            "family": _part(c.family),
            "given": _part(c.given),
            "patronymic": _part(c.patronymic),
            "reasons": [r.text() for r in c.reasons],
            "messages": [r.to_data() for r in c.reasons],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    verdict = "[green]probably the same name[/]" if c.is_match else "[yellow]probably different[/]"
    _console.print(f"[bold]{a}[/]  ↔  [bold]{b}[/]")
    _console.print(f"score [bold]{c.score:.3f}[/] — {verdict} (threshold {MATCH_THRESHOLD})")
    table = Table(show_header=True, header_style="bold")
    table.add_column("part")
    table.add_column("level")
    table.add_column("score", justify="right")
    table.add_column("reason")
    for label, pc in (("family", c.family), ("given", c.given), ("patronymic", c.patronymic)):
        if pc is None:
            table.add_row(label, "missing", "", "")
        else:
            table.add_row(label, pc.level, f"{pc.score:.3f}", pc.reason.text())
    _console.print(table)
    for r in c.reasons:
        if not any(pc and pc.reason == r.value("reason") for pc in (c.family, c.given, c.patronymic)):
            _console.print(f"  · {r}")


def _explain(name: str) -> dict[str, Any]:
    p = parse_name(name)
    tokens: list[dict[str, Any]] = []
    for role, tok in (
        [("family", p.family)] + [("given", g) for g in p.given] + [("patronymic", p.patronymic)]
    ):
        if not tok:
            continue
        r = readings(tok)
        entry: dict[str, Any] = {
            "role": role,
            "token": tok,
            "script": r.script,
            "readings": [
                {
                    "key": k,
                    "conventions": list(dict.fromkeys(CONVENTION_LABELS.get(c, c) for c in cs)),
                    "likely": k in r.likely,
                }
                for k, cs in zip(r.keys, r.conventions, strict=True)
            ],
        }
        if role == "given":
            forms = given_forms(tok)
            entry["canonical_given"] = canonical_given(tok)
            entry["given_forms"] = [
                {"form": g.form, "class": g.class_id, "sex": g.sex, "lang": g.lang, "kind": g.kind}
                for g in forms[:8]
            ]
        if role == "patronymic":
            pat = patronymic_of(tok)
            if pat:
                entry["father_classes"] = sorted(pat.fathers)
        tokens.append(entry)
    return {
        "original": p.original,
        "family": p.family,
        "given": list(p.given),
        "patronymic": p.patronymic,
        "initials": list(p.initials),
        "script": p.script,
        "language": p.language,
        "sex": p.sex,
        "order": p.order,
        "tokens": tokens,
        "blocking_keys": sorted(blocking_keys(p)),
    }


@app.command("explain")
def explain_cmd(
    name: str = typer.Argument(..., help="A name, as written."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show how a name is parsed, read and keyed."""
    info = _explain(name)
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    _console.print(f"[bold]{name}[/]")
    head = Table(show_header=False, box=None)
    head.add_column(style="dim")
    head.add_column()
    for k in ("family", "given", "patronymic", "initials", "script", "language", "sex", "order"):
        v = info[k]
        head.add_row(k, (", ".join(v) or "—") if isinstance(v, list) else str(v) if v is not None else "—")
    _console.print(head)
    for t in info["tokens"]:
        table = Table(title=f"{t['role']}: {t['token']} ({t['script']})", title_justify="left")
        table.add_column("key")
        table.add_column("conventions")
        table.add_column("likely")
        for rd in t["readings"]:
            table.add_row(rd["key"], ", ".join(rd["conventions"]), "yes" if rd["likely"] else "")
        _console.print(table)
        if t.get("canonical_given"):
            forms = ", ".join(f"{g['form']} ({g['lang']}, {g['kind']})" for g in t["given_forms"])
            _console.print(f"  given-name class [bold]{t['canonical_given']}[/]: {forms}")
        if t.get("father_classes"):
            _console.print(f"  father's name: {', '.join(t['father_classes'])}")
    _console.print("blocking keys: " + " ".join(info["blocking_keys"]))
