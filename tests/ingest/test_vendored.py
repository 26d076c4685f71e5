"""The in-repo copies of ../shared (used so CI needs no ../shared) are the shared files, byte for byte."""

from __future__ import annotations

import hashlib

from tests.ingest.helpers import REPORTS, SEED

# sha256 of ../shared/seed/000_e54ca6818db11c1d.txt and ../shared/reports/* when they were copied.
SHARED_SHA256 = {
    SEED: "e130df5ab6dfc6df01ff4523366550733a4671050c0e478f56270cce36de2011",
    REPORTS / "01_ro.txt": "04cfa7a687791c1f2fdb65ea3a361d21377381b922b2940ac1ab02a893761e79",
    REPORTS / "06_en.txt": "ddf793df2d62fde442e2df076f9d2f7bbad37d7b52763a4fbe01d95e9fee27cd",
    REPORTS / "09_ru.txt": "217bafb5c1ef42317e2d80e146de52a27bb20c10b0115ceaa649e6866f1d4220",
    REPORTS / "13_uk.txt": "25edcb9b61503ede75470b5d6a61a65c07ed1649b4573e5577dcd02df1186941",
    REPORTS / "labels.jsonl": "a1a3571d9cced84dd839ba1fa9276bc1c2bf3d9b10157cd9efe53806fd731d7b",
}


def test_vendored_copies_are_unchanged() -> None:
    got = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in SHARED_SHA256}
    assert got == SHARED_SHA256
    assert sorted(p.name for p in REPORTS.glob("*.txt")) == [
        "01_ro.txt",
        "06_en.txt",
        "09_ru.txt",
        "13_uk.txt",
    ]
