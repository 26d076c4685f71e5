"""Paper for the bureau's partners and families: `kinlink cards capture|internment RECORD -o card.pdf` and
`kinlink certificate RECORD|TR-... -o certificate.pdf` (with --revoke SERIAL and --check CODE)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kinlink.cli.context import console, fail, refused, state
from kinlink.cli.db import open_engine
from kinlink.errors import Refused
from kinlink.pdf.fonts import FontMissing
from kinlink.private_files import open_private
from kinlink.registry.cards import write_card
from kinlink.registry.certificates import code_state, issue_certificate, revoke_certificate
from kinlink.store.db import unit_of_work
from kinlink.tracing.mail import MailSettings

cards_app = typer.Typer(
    no_args_is_help=True,
    help="Capture cards (GC III Art. 70) and internment cards (GC IV Art. 106) as PDF.",
)

RECORD = typer.Argument(..., help="The record: its kinlink id or SOURCE:RECORD_ID.")
OUTPUT = typer.Option(..., "-o", "--output", help="The PDF file to write (created readable by you only).")
LANGUAGES = typer.Option(
    None,
    "--languages",
    help="The card's languages, comma-separated (default: the person's, then KINLINK_BUREAU_LANGUAGE).",
)


def _write(path: Path, data: bytes) -> None:
    with open_private(path, "wb") as f:
        f.write(data)


def _card(kind: str, record: str, output: Path, languages: str | None) -> None:
    langs = tuple(x.strip() for x in languages.split(",") if x.strip()) if languages else None
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            card = write_card(session, state.who(), record, kind, languages=langs)
    except Refused as e:
        refused(e)
    except FontMissing as e:
        fail(str(e), 1)
    _write(output, card.pdf)
    console.print(
        f"{kind.capitalize()} card of record {record} ({', '.join(card.content.languages)}) -> {output}"
    )


@cards_app.command("capture")
def capture(record: str = RECORD, output: Path = OUTPUT, languages: str = LANGUAGES) -> None:
    """A prisoner of war's capture card (the model of GC III Annex IV B), in two languages."""
    _card("capture", record, output, languages)


@cards_app.command("internment")
def internment(record: str = RECORD, output: Path = OUTPUT, languages: str = LANGUAGES) -> None:
    """A civilian internee's internment card (the model of GC IV Annex III), in two languages."""
    _card("internment", record, output, languages)


def certificate(
    ref: str = typer.Argument(
        None, help="TR-XXXX-XXXX (for that request's family) or a record: its kinlink id or SOURCE:RECORD_ID."
    ),
    output: Path = typer.Option(None, "-o", "--output", help="The PDF file to write."),
    to: str = typer.Option(None, "--to", help="To whom a record's certificate is issued (not for TR-...)."),
    language: str = typer.Option(
        None, "--language", help="The family's language (default: the request's), beside the bureau's."
    ),
    revoke: str = typer.Option(None, "--revoke", help="Revoke the certificate with this serial number."),
    reason: str = typer.Option(None, "--reason", help="Why it is revoked (with --revoke)."),
    check: str = typer.Option(None, "--check", help="Say whether the certificate with this code is current."),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Issue a certificate of a person's status for a family (a PDF with a serial number and a verification
    code, checked at /verify/CODE), revoke one, or check a code."""
    engine = open_engine()
    if revoke:
        try:
            with unit_of_work(engine) as session:
                cert = revoke_certificate(session, state.who(), revoke, reason)
                serial = cert.serial
        except Refused as e:
            refused(e)
        _say(json_output, {"serial": serial, "revoked": True}, f"Certificate {serial} revoked.")
        return
    if check:
        with unit_of_work(engine) as session:
            found = code_state(session, check)
        _say(
            json_output,
            {"state": found},
            {
                "current": "Genuine and current.",
                "not_current": "Genuine, but no longer current.",
                "unknown": "No certificate has this code.",
            }[found],
        )
        return
    if not ref or output is None:
        fail("give RECORD or TR-... and -o FILE (or --revoke SERIAL, or --check CODE)")
    try:
        with unit_of_work(engine) as session:
            issued = issue_certificate(
                session, state.who(), ref, base_url=MailSettings().base_url, recipient=to, language=language
            )
            serial, status = issued.certificate.serial, issued.certificate.status
    except Refused as e:
        refused(e)
    except FontMissing as e:
        fail(str(e), 1)
    _write(output, issued.pdf)
    _say(
        json_output,
        {"serial": serial, "code": issued.code, "status": status, "file": str(output)},
        f"Certificate {serial} ({status}) -> {output}; verification code {issued.code}",
    )


def _say(json_output: bool, data: dict, text: str) -> None:
    if json_output:
        print(json.dumps(data, ensure_ascii=False))
    else:
        console.print(text, highlight=False)
