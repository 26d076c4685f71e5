"""Throughput of the ingest core: documents per second, read + language id + extraction.

    .venv/bin/python bench/ingest/run.py [--rounds 5]

The corpus is the seed (src/kinlink/demo), the real excerpts (tests/ingest/fixtures/reports, vendored from
../shared/reports) and the rest of tests/ingest/fixtures (texts, HTML, Telegram exports), read from disk
each round. Models are loaded once before timing (as a long-running ingest would).
Target: at least 20 documents per second on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from kinlink.ingest import morph  # noqa: E402
from kinlink.ingest.langid import identify_language  # noqa: E402
from kinlink.ingest.pipeline import ingest_paths  # noqa: E402

SEED = ROOT / "src/kinlink/demo/seed-article-ro.txt"
FIXTURES = ROOT / "tests/ingest/fixtures"  # holds reports/ and the held-out sets
TARGET = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    t0 = time.perf_counter()
    morph.warm_up("ru")
    morph.warm_up("uk", use_natasha=False)
    identify_language("warm up the language model")
    load = time.perf_counter() - t0

    print(f"models loaded in {load:.2f}s")
    for label, corpus in (
        ("all (fixtures, real excerpts, Telegram)", [SEED, FIXTURES]),
        ("real articles only", [SEED, FIXTURES / "reports"]),
    ):
        rate = _measure(label, corpus, args.rounds)
    print(f"target {TARGET:.0f}/s: {'met' if rate >= TARGET else 'NOT met'} on real articles")


def _measure(label: str, paths: list[Path], rounds: int) -> float:
    docs = sightings = chars = 0
    t0 = time.perf_counter()
    for _ in range(rounds):
        for result in ingest_paths(paths):
            docs += 1
            sightings += len(result.sightings)
            if result.document is not None:
                chars += len(result.document.text)
    elapsed = time.perf_counter() - t0
    rate = docs / elapsed
    print(
        f"{label}: {docs} documents ({chars / max(docs, 1):.0f} chars on average), {sightings} sightings, "
        f"{elapsed:.2f}s -> {rate:.1f} documents/s"
    )
    return rate


if __name__ == "__main__":
    main()
