"""Measure extraction against labelled reports: precision, recall, status accuracy, per language.

    .venv/bin/python bench/ingest/evaluate.py            # all label sets, all ablations
    .venv/bin/python bench/ingest/evaluate.py --details  # also list every miss and false sighting

Label sets: the seed article (src/kinlink/demo/seed-article-ro.txt), tests/ingest/fixtures/reports (real
published excerpts, vendored from ../shared/reports) and tests/ingest/fixtures with its held-out sets
(written for the project). Everything is in the repository: no ../shared needed.

A predicted sighting matches a labelled subject when their name tokens are the same after case and
diacritics folding (one side may add one token, a patronymic). Status accuracy is over matched subjects;
attribute accuracy over the attributes a label gives (age, birth_year, rank, unit, home, and the date of
the event as YYYY-MM-DD). Ablations switch off one part at a time to show what it contributes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from kinlink.ingest.gazetteer import fold  # noqa: E402
from kinlink.ingest.model import ExtractionResult, SourceDocument  # noqa: E402
from kinlink.ingest.options import ExtractOptions  # noqa: E402
from kinlink.ingest.pipeline import process_document  # noqa: E402
from kinlink.ingest.readers import read_paths  # noqa: E402

FIXTURES = ROOT / "tests/ingest/fixtures"
SEED = ROOT / "src/kinlink/demo/seed-article-ro.txt"  # ../shared/seed's article, identical bytes
SEED_LABEL = {
    "file": str(SEED),
    "lang": "ro",
    "subjects": [{"name": "Leonid Paktishev", "status": "captured", "age": 28}],
    "not_subjects": ["Igor Konașenkov"],
}
ATTRS = ("age", "birth_year", "rank", "unit", "home", "date")
ABLATIONS: dict[str, ExtractOptions] = {
    "full": ExtractOptions(),
    "no natasha": ExtractOptions(use_natasha=False),
    "no pymorphy": ExtractOptions(use_morph=False),
    "no gazetteer": ExtractOptions(use_gazetteer=False),
    "no sentence window": ExtractOptions(use_window=False),
    "no pymorphy, no natasha": ExtractOptions(use_natasha=False, use_morph=False),
    "rules only": ExtractOptions(use_natasha=False, use_morph=False, use_gazetteer=False),
}


def label_sets() -> list[tuple[str, Path, list[dict[str, Any]]]]:
    sets: list[tuple[str, Path, list[dict[str, Any]]]] = [("seed", SEED.parent, [SEED_LABEL])]
    for name, base in (
        ("reports", FIXTURES / "reports"),
        ("fixtures", FIXTURES),
        ("heldout", FIXTURES / "heldout"),
        ("heldout2", FIXTURES / "heldout2"),
        ("heldout3", FIXTURES / "heldout3"),
        ("heldout4", FIXTURES / "heldout4"),
        ("heldout5", FIXTURES / "heldout5"),
    ):
        path = base / "labels.jsonl"
        labels = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        sets.append((name, base, labels))
    return sets


def load_document(base: Path, file: str) -> SourceDocument:
    path_part, _, msg_id = file.partition("#")
    path = Path(path_part) if Path(path_part).is_absolute() else base / path_part
    for item in read_paths([path]):
        if isinstance(item, SourceDocument) and (not msg_id or item.message_id == int(msg_id)):
            return item
    raise LookupError(f"no document for {file}")


def name_key(name: str) -> frozenset[str]:
    return frozenset(fold(t) for t in name.replace("-", " ").split() if t)


def names_match(a: str, b: str) -> bool:
    ka, kb = name_key(a), name_key(b)
    if ka == kb:
        return True
    small, big = sorted((ka, kb), key=len)
    # One side may add one token (a patronymic); more would accept "Republicii Moldova Sergiu Lungu".
    return small <= big and len(small) >= 2 and len(big) - len(small) <= 1


def norm_attr(value: Any) -> str:
    return " ".join(str(value).casefold().replace("ё", "е").replace(",", " ").split())


@dataclass
class Tally:
    docs: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    status_ok: int = 0
    attr_total: int = 0
    attr_ok: int = 0
    not_subject_hits: int = 0
    lang_ok: int = 0
    details: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for f in (
            "docs",
            "tp",
            "fp",
            "fn",
            "status_ok",
            "attr_total",
            "attr_ok",
            "not_subject_hits",
            "lang_ok",
        ):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        self.details += other.details

    def row(self, name: str) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        st = self.status_ok / self.tp if self.tp else 0.0
        at = f"{self.attr_ok}/{self.attr_total}" if self.attr_total else "-"
        return (
            f"{name:<8} {self.docs:>4} {self.tp + self.fn:>5} {p:>6.3f} {r:>6.3f} {f1:>6.3f} {st:>7.3f} "
            f"{at:>8} {self.not_subject_hits:>6} {self.lang_ok:>3}/{self.docs:<3}"
        )


HEADER = (
    f"{'lang':<8} {'docs':>4} {'subj':>5} {'prec':>6} {'recall':>6} {'f1':>6} {'status':>7} {'attrs':>8} "
    f"{'notsub':>6} {'langid':>7}"
)


def score(label: dict[str, Any], result: ExtractionResult) -> Tally:
    t = Tally(docs=1, lang_ok=int(result.language == label["lang"]))
    where = label["file"].rsplit("/", 1)[-1]
    if result.error:
        t.details.append(f"{where}: ERROR {result.error}")
    predicted = list(result.sightings)
    for subj in label["subjects"]:
        hit = next((s for s in predicted if names_match(s.name, subj["name"])), None)
        if hit is None:
            t.fn += 1
            t.details.append(f"{where}: MISSED {subj['name']} ({subj['status']})")
            continue
        predicted.remove(hit)
        t.tp += 1
        if hit.status == subj["status"]:
            t.status_ok += 1
        else:
            t.details.append(f"{where}: STATUS {subj['name']}: {hit.status} != {subj['status']}")
        for attr in ATTRS:
            if attr in subj:
                t.attr_total += 1
                got = getattr(hit, attr)
                if got is not None and norm_attr(got) == norm_attr(subj[attr]):
                    t.attr_ok += 1
                else:
                    t.details.append(f"{where}: ATTR {subj['name']}.{attr}: {got!r} != {subj[attr]!r}")
    for s in predicted:
        t.fp += 1
        t.details.append(f"{where}: FALSE {s.name} ({s.status})")
        if any(names_match(s.name, n) for n in label.get("not_subjects", [])):
            t.not_subject_hits += 1
    return t


def evaluate(opts: ExtractOptions, only_set: str | None = None) -> dict[str, Tally]:
    by_lang: dict[str, Tally] = defaultdict(Tally)
    for set_name, base, labels in label_sets():
        if only_set and set_name != only_set:
            continue
        for label in labels:
            try:
                doc = load_document(base, label["file"])
            except LookupError:  # e.g. a message a reader could not find: all its people are missed
                result = ExtractionResult(label["file"], None, error="no such document")
            else:
                result = process_document(doc, opts)
            by_lang[label["lang"]].add(score(label, result))
    total = Tally()
    for t in by_lang.values():
        total.add(t)
    out = {lang: by_lang[lang] for lang in ("ro", "ru", "uk", "en") if lang in by_lang}
    out["overall"] = total
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--details", action="store_true", help="list misses and false sightings (full run)")
    parser.add_argument("--only", choices=list(ABLATIONS), help="run one configuration")
    parser.add_argument(
        "--set",
        choices=["seed", "reports", "fixtures", "heldout", "heldout2", "heldout3", "heldout4", "heldout5"],
        help="one label set",
    )
    args = parser.parse_args()
    sets = label_sets()
    listing = ", ".join(f"{n} ({len(ls)})" for n, _, ls in sets)
    print(f"label sets: {listing}; documents: {sum(len(ls) for _, _, ls in sets)}")
    names = [args.only] if args.only else list(ABLATIONS)
    for name in names:
        tallies = evaluate(ABLATIONS[name], args.set)
        print(f"\n== {name}")
        print(HEADER)
        for lang, t in tallies.items():
            print(t.row(lang))
        if args.details and name == names[0]:
            for line in tallies["overall"].details:
                print("  ", line)
    # Each label set on its own (full configuration): heldout4 is the newest set, unseen when written.
    print("\n== full, by label set")
    print(HEADER.replace("lang    ", "set     ", 1))
    for set_name, _, _ in sets:
        if not args.set or set_name == args.set:
            print(evaluate(ExtractOptions(), set_name)["overall"].row(set_name))


if __name__ == "__main__":
    main()
