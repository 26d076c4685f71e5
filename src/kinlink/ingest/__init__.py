"""kinlink.ingest: open-source reports -> sightings (people captured, killed, missing...) and mentions.

Pure core: readers (the only I/O), language id, confusables repair, dates, extraction. No database.
"""

from kinlink.ingest.extract import extract
from kinlink.ingest.model import ExtractionResult, Mention, ReadProblem, Sighting, SourceDocument
from kinlink.ingest.options import ExtractOptions
from kinlink.ingest.pipeline import ingest_paths, process_document, process_items
from kinlink.ingest.readers import read_paths

__all__ = [
    "ExtractOptions",
    "ExtractionResult",
    "Mention",
    "ReadProblem",
    "Sighting",
    "SourceDocument",
    "extract",
    "ingest_paths",
    "process_document",
    "process_items",
    "read_paths",
]
