"""The in-process engine: the whole database in one machine's memory, searched by forked workers."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from kinlink.matching.em import Estimate
from kinlink.matching.model import Model
from kinlink.tracing.batch import estimate_model, match_all
from kinlink.tracing.continuous import MatchSummary


def match(
    engine: Engine,
    actor: str,
    model: Model,
    *,
    dedup: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    chunk: int = 500,
    processes: int | None = None,
) -> MatchSummary:
    return match_all(
        engine, actor, model=model, dedup=dedup, progress=progress, chunk=chunk, processes=processes
    )


def estimate(engine: Engine, model: Model) -> Estimate | None:
    return estimate_model(engine, model)
