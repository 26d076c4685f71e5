"""What the cards and certificates share: two languages side by side, styles, and building the PDF."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from kinlink.i18n import DEFAULT, LANGUAGES, gettext_for
from kinlink.pdf.fonts import register

Translate = Callable[..., str]


def paper_languages(*wanted: str | None) -> tuple[str, ...]:
    """The languages a paper is written in, in the order wanted, each once; a language kinlink has no
    translations for is written in English (the Central Tracing Agency's working language)."""
    out: list[str] = []
    for lang in wanted:
        code = (lang or "").strip().lower().split("-")[0]
        code = code if code in LANGUAGES else DEFAULT
        if code not in out:
            out.append(code)
    return tuple(out) or (DEFAULT,)


def N_(message: str) -> str:
    """Marks a text for translation (Babel extracts N_); it is translated when the paper is written."""
    return message


class Bilingual:
    """Texts in every language of the paper: the first plain, the others smaller and grey below it."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        self.translators: list[Translate] = [gettext_for(lang) for lang in self.languages]

    def texts(self, message: str, **values: Any) -> list[str]:
        out: list[str] = []
        for _ in self.translators:
            text = _(message, **values)
            if text not in out:
                out.append(text)
        return out

    def markup(self, message: str, bold: bool = False, **values: Any) -> str:
        first, *others = [escape(t) for t in self.texts(message, **values)]
        head = f"<b>{first}</b>" if bold else first
        return "<br/>".join([head, *(f'<font size="-1" color="#555555">{t}</font>' for t in others)])

    def inline(self, message: str, **values: Any) -> str:
        """All languages on one line, separated by a slash (short labels)."""
        return " / ".join(escape(t) for t in self.texts(message, **values))


def value(text: str | None) -> str:
    """A recorded value as paragraph markup (escaped: names hold & and <)."""
    return escape(text) if text else "—"


def styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    regular, _bold = register()
    base = ParagraphStyle("kl-base", fontName=regular, fontSize=9.5, leading=12)
    return {
        "base": base,
        "small": ParagraphStyle("kl-small", parent=base, fontSize=7.5, leading=9.5),
        "title": ParagraphStyle("kl-title", parent=base, fontSize=15, leading=19, spaceAfter=4),
        "heading": ParagraphStyle("kl-heading", parent=base, fontSize=11, leading=14, spaceBefore=6),
        "code": ParagraphStyle("kl-code", parent=base, fontSize=16, leading=20, spaceBefore=4),
    }


def table(rows: Iterable[Sequence[Any]], widths: Sequence[float]) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    t = Table([list(r) for r in rows], colWidths=list(widths))
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return t


def build(story: list[Any], title: str, author: str) -> bytes:
    """The PDF of these flowables on A4. The document's metadata names the paper and the bureau only."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
        author=author,
        creator="kinlink",
        # The same content gives the same file: no creation time nor random id in it.
        invariant=True,
    )
    doc.build(story)
    return buf.getvalue()
