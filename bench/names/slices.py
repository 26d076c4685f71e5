"""Extra query classes for bench/names (issue 17): names in an oblique case, double-barrelled family names,
Belarusian spellings, ambiguous short forms; and the calibration table of the name score.

Drawn with their own random generator after the main queries, so the main figures do not move. Each class
renders registry persons by a rule of the grammar or orthography (pymorphy3 declension; the Belarusian
spelling rules of data/correspondences.tsv's sources), not from examples.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

_MORPH: dict[str, Any] = {}
_GENDER = {"m": "masc", "f": "femn"}


def _morph(lang: str) -> Any:
    if lang not in _MORPH:
        import pymorphy3

        _MORPH[lang] = pymorphy3.MorphAnalyzer(lang=lang)
    return _MORPH[lang]


def decline(word: str, lang: str, sex: str, role: str, case: str) -> str | None:
    for p in _morph(lang).parse(word.lower()):
        tag = p.tag
        if role in tag.grammemes and tag.case == "nomn" and tag.number != "plur":
            if tag.gender and tag.gender != _GENDER[sex]:
                continue
            if "Fixd" in tag.grammemes:
                return word
            out = p.inflect({case})
            return out.word.capitalize() if out else None
    return None


def oblique(p: Any, rng: random.Random) -> str | None:
    case = rng.choice(("gent", "datv", "ablt", "loct"))
    words = [decline(p.given, p.lang, p.sex, "Name", case)]
    if p.patronymic and rng.random() < 0.5:
        words.append(decline(p.patronymic, p.lang, p.sex, "Patr", case))
    words.append(decline(p.family, p.lang, p.sex, "Surn", case))
    if any(w is None for w in words):
        return None
    return " ".join(words)  # type: ignore[arg-type]


def double(p: Any, rng: random.Random, surnames: list[str]) -> str:
    # The query bears the record's family name and another (a maiden or second name), in either order.
    other = rng.choice(surnames)
    fam = f"{p.family}-{other}" if rng.random() < 0.5 else f"{other}-{p.family}"
    return f"{p.given} {fam}"


_BE = [(r"щ", "шч"), (r"ъ", "'"), (r"и", "і"), (r"([оеё])в$", r"\1ў"), (r"([оеё])в(?=[^аеёиоуыэюя])", r"\1ў")]


def belarusian(p: Any) -> str | None:
    if p.lang != "ru":
        return None
    fam = p.family.lower()
    for rx, repl in _BE:
        fam = re.sub(rx, repl, fam)
    fam = re.sub(r"(?<=[шчжцр])е", "а", fam)  # яканне after a hard consonant
    fam = re.sub(r"о(?=[^аеёиоуыэюяі]*[аеёиоуыэюяі])", "а", fam, count=1) if "ў" in fam else fam  # аканне
    return f"{p.given} {fam.capitalize()}"


def short_form(p: Any, forms: Callable[[str], Any]) -> str | None:
    # A diminutive our table lists under several names of the person's sex.
    full = forms(p.given)
    if not full:
        return None
    cls = full[0].class_id
    for dim in _DIMS.get((cls, p.sex), ()):
        return f"{dim} {p.family}"
    return None


_DIMS: dict[tuple[str, str], tuple[str, ...]] = {}


def load_ambiguous(path: Any) -> None:
    """Diminutives that stand for several names of one sex, from the given-name table."""
    owners: dict[tuple[str, str], set[str]] = {}
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("id\t"):
            continue
        cols = line.split("\t")
        cid, sex = cols[0], cols[1]
        forms = [f for c in cols[2:6] for f in c.split("|") if f]
        rows.append((cid, sex, forms))
        for f in forms:
            owners.setdefault((f, sex), set()).add(cid)
    for cid, sex, forms in rows:
        amb = tuple(f for f in forms if len(owners[(f, sex)]) > 1)
        if amb:
            _DIMS[(cid, sex)] = amb


def calibration(rows: list[tuple[float, bool]]) -> list[str]:
    """Predicted (the best candidate's name score) against observed (that candidate is the person), by
    decile of the score."""
    out = [f"{'score':>11} {'n':>6} {'mean score':>11} {'observed':>9}"]
    for d in range(10):
        lo, hi = d / 10, (d + 1) / 10
        sel = [(s, ok) for s, ok in rows if lo <= s < hi or (d == 9 and s >= 1.0)]
        if not sel:
            continue
        mean = sum(s for s, _ in sel) / len(sel)
        obs = sum(ok for _, ok in sel) / len(sel)
        out.append(f"{lo:4.1f}-{hi:4.1f}  {len(sel):>6} {mean:>11.3f} {obs:>9.3f}")
    return out
