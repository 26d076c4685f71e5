"""Shared helpers for the ingest tests: where the label sets live, how names are compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kinlink.ingest.gazetteer import fold
from kinlink.ingest.model import SourceDocument
from kinlink.ingest.readers import read_paths

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
# In-repo copies, so nothing depends on ../shared existing (a clean clone in CI has none).
REPORTS = FIXTURES / "reports"  # ../shared/reports, vendored (see its README)
SEED = HERE.parents[1] / "src" / "kinlink" / "demo" / "seed-article-ro.txt"  # ../shared/seed's article


def load_labels(base: Path) -> list[dict[str, Any]]:
    path = base / "labels.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_document(base: Path, file: str) -> SourceDocument:
    path_part, _, msg_id = file.partition("#")
    for item in read_paths([base / path_part]):
        if isinstance(item, SourceDocument) and (not msg_id or item.message_id == int(msg_id)):
            return item
    raise LookupError(file)


def name_key(name: str) -> frozenset[str]:
    return frozenset(fold(t) for t in name.replace("-", " ").split())


def same_name(a: str, b: str) -> bool:
    """Same tokens after case/diacritics folding; one side may add one token (a patronymic)."""
    ka, kb = name_key(a), name_key(b)
    small, big = sorted((ka, kb), key=len)
    return ka == kb or (small <= big and len(small) >= 2 and len(big) - len(small) <= 1)
