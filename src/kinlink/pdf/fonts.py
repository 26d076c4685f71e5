"""The fonts the PDFs are set in: DejaVu Sans (regular and bold), found on this machine.

DejaVu covers Latin with Romanian diacritics (ș ț ă â î), Cyrillic (Russian, Ukrainian, Belarusian) and
Greek. ReportLab's own fonts are the PDF base fonts (Latin-1 only), so a font file is needed; it is looked
for in KINLINK_FONT_DIR, then where Debian, Fedora, Arch and Homebrew put DejaVu. Nothing is downloaded.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

REGULAR = "KinlinkSans"
BOLD = "KinlinkSans-Bold"
FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
SEARCHED = (
    "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu: fonts-dejavu-core
    "/usr/share/fonts/dejavu-sans-fonts",  # Fedora
    "/usr/share/fonts/TTF",  # Arch
    "/usr/share/fonts/dejavu",
    "/opt/homebrew/share/fonts",
    "/usr/local/share/fonts",
)


class FontMissing(RuntimeError):
    """No font file covering Cyrillic was found: the machine needs DejaVu (a set-up problem, not input)."""


def font_dirs() -> list[Path]:
    given = os.environ.get("KINLINK_FONT_DIR")
    return [Path(d) for d in ([given] if given else []) + list(SEARCHED)]


def find_font(file_name: str) -> Path:
    for d in font_dirs():
        p = d / file_name
        if p.is_file():
            return p
    raise FontMissing(
        f"no {file_name} found (looked in {', '.join(str(d) for d in font_dirs())}): install Debian's "
        "fonts-dejavu-core, or set KINLINK_FONT_DIR to a folder holding DejaVuSans.ttf and "
        "DejaVuSans-Bold.ttf"
    )


@cache
def register() -> tuple[str, str]:
    """Register the fonts with ReportLab once; their names (regular, bold)."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, file_name in FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(find_font(file_name))))
    # <b> in a paragraph picks the bold face.
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    return REGULAR, BOLD
