"""Documents -> repaired text -> language -> extraction, one result per document, errors included.

A problem with one document (unreadable, unknown language, a bug in a rule) becomes that document's
`error`; the rest of the batch goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path

from kinlink.ingest.confusables import repair_confusables
from kinlink.ingest.extract import extract
from kinlink.ingest.langid import identify_language
from kinlink.ingest.model import ExtractionResult, ReadProblem, SourceDocument
from kinlink.ingest.options import ExtractOptions
from kinlink.ingest.readers import ReadItem, read_paths


def process_document(
    doc: SourceDocument, opts: ExtractOptions | None = None, language: str | None = None
) -> ExtractionResult:
    text, _ = repair_confusables(doc.text)
    if language is None:
        guess = identify_language(text)
        if guess.language is None:
            return ExtractionResult(doc.path, None, error=f"unknown language: {guess.detail}", document=doc)
        language = guess.language
    try:
        return extract(doc, language, opts, text=text)
    except Exception as exc:  # one bad document must not stop a batch; the type is enough to debug
        return ExtractionResult(
            doc.path, language, error=f"extraction failed ({type(exc).__name__})", document=doc
        )


def process_items(
    items: Iterable[ReadItem], opts: ExtractOptions | None = None
) -> Iterator[ExtractionResult]:
    for item in items:
        if isinstance(item, ReadProblem):
            yield ExtractionResult(item.path, None, error=item.message)
        else:
            yield process_document(item, opts)


def ingest_paths(
    paths: Iterable[Path | str], opts: ExtractOptions | None = None, default_date: dt.date | None = None
) -> Iterator[ExtractionResult]:
    """Read, identify and extract every document under `paths`."""
    yield from process_items(read_paths(paths, default_date=default_date), opts)
