"""A Babel extractor for the matching model's texts (its field labels and level texts are message ids: the
evidence a caseworker reads is built of them). `i18n/babel.cfg` names it for `matching/model.json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any


def model_texts(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    model = json.loads(fileobj.read().decode("utf-8"))
    for comparison in [*model.get("comparisons", []), *model.get("remains", {}).get("comparisons", [])]:
        yield 0, "", comparison.get("label", comparison["field"]), []
        for level in comparison.get("levels", []):
            yield 0, "", level.get("text", level["name"]), []
