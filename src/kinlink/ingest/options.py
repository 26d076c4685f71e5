"""Switches shared by every extraction step.

bench/ingest/evaluate.py turns them off one at a time to measure what natasha, pymorphy3, the gazetteer
and the sentence window each add. They live on their own so that the steps need not import `extract`,
which runs them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractOptions:
    """Switches for measuring what each part contributes (bench/ingest/evaluate.py)."""

    use_natasha: bool = True
    use_morph: bool = True
    use_gazetteer: bool = True
    use_window: bool = True
