"""A certificate for a family: an extract of the register stating a person's status, its dates and how it is
known, with the issuing bureau, a serial number and a verification code. Anyone may check the code at
/verify/CODE, which says only whether the certificate is genuine and current."""

from __future__ import annotations

from dataclasses import dataclass

from kinlink.pdf.layout import N_, Bilingual, build, styles, table, value

# Status words as the registry's pages say them (the same texts as the templates' status labels).
STATUS_LABELS = {
    "captured": N_("captured"),
    "interned": N_("interned"),
    "wounded": N_("wounded"),
    "hospitalised": N_("in hospital"),
    "seriously_ill": N_("seriously ill"),
    "released": N_("released"),
    "repatriated": N_("repatriated"),
    "escaped": N_("escaped"),
    "dead": N_("dead"),
    "missing": N_("missing"),
    "found": N_("found"),
}
# How an event is known (kinlink.person.confirmation's levels).
LEVEL_LABELS = {
    "open_source": N_("reported in open sources"),
    "public": N_("reported by a member of the public"),
    "family": N_("reported by the family"),
    "detaining_power": N_("notified by the detaining power"),
    "icrc_visit": N_("confirmed by an ICRC visit"),
    "documents": N_("confirmed by documents"),
}


@dataclass(frozen=True)
class CertificateContent:
    serial: str
    code: str
    verify_url: str  # where the code is checked, with the code in it
    languages: tuple[str, ...]  # the family's, then the bureau's
    bureau: str
    full_name: str
    birth_date: str | None
    status: str
    status_date: str | None
    recorded_on: str | None  # the day the bureau recorded the status's event
    level: str | None
    issued_on: str


def render(cert: CertificateContent) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    tr = Bilingual(cert.languages)
    st = styles()
    level = LEVEL_LABELS.get(cert.level or "")
    status = STATUS_LABELS.get(cert.status)

    def row(label: str, text: str) -> list:
        return [Paragraph(tr.markup(label), st["base"]), Paragraph(text, st["base"])]

    rows = [
        row(N_("Name"), value(cert.full_name)),
        row(N_("Date of birth"), value(cert.birth_date)),
        row(N_("Status"), tr.inline(status) if status else value(cert.status)),
        row(N_("Date of the status"), value(cert.status_date)),
        row(N_("Recorded by the bureau on"), value(cert.recorded_on)),
        row(N_("How it is known"), tr.inline(level) if level else tr.inline(N_("not recorded"))),
        row(N_("Issuing bureau"), value(cert.bureau)),
        row(N_("Serial number"), value(cert.serial)),
        row(N_("Issued on"), value(cert.issued_on)),
    ]
    story: list = [
        Paragraph(tr.markup(N_("Certificate of status"), bold=True), st["title"]),
        Paragraph(tr.markup(N_("Extract from the register of %(bureau)s"), bureau=cert.bureau), st["base"]),
        Spacer(1, 4 * mm),
        table(rows, [62 * mm, 116 * mm]),
        Spacer(1, 5 * mm),
        Paragraph(tr.markup(N_("Verification code")), st["heading"]),
        Paragraph(f"<b>{value(cert.code)}</b>", st["code"]),
        Paragraph(
            tr.markup(
                N_("To check that this certificate is genuine and current, open %(url)s"), url=cert.verify_url
            ),
            st["base"],
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            tr.markup(
                N_(
                    "This certificate states what the bureau knew on the day it was issued. A later change "
                    "of status, or its revocation, makes it no longer current."
                )
            ),
            st["small"],
        ),
    ]
    return build(story, N_("Certificate of status"), cert.bureau)
