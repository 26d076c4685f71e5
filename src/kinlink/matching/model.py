"""The declared matching model: fields, comparison levels and their m/u probabilities, kept as data.

The model is a versioned JSON file (the default ships as `model.json` beside this module); the code that
runs it (comparators.py, score.py) never hard-codes a field or a probability, so EM re-estimation only
writes a new file. The same model serves the single query (a request typed in) and the batch
(`kinlink match`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

DEFAULT_MODEL_PATH = Path(__file__).with_name("model.json")

# A level condition is tested against the features a comparator produced for one pair.
Features = Mapping[str, Any]
Condition = Callable[[Features], bool]


@dataclass(frozen=True)
class Level:
    name: str
    m: float
    u: float
    text: str
    when: dict[str, Any] = field(default_factory=dict)
    tf: bool = False  # the u probability is replaced by the frequency of the value (rare = strong evidence)

    @property
    def bayes_factor(self) -> float:
        return self.m / self.u

    @property
    def weight(self) -> float:
        """The match weight in bits: log2(m/u)."""
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class Comparison:
    field: str
    label: str
    comparator: str
    levels: tuple[Level, ...]
    params: dict[str, Any] = field(default_factory=dict)
    tf: str | None = None  # which term-frequency table applies (family | given | patronymic)

    def level(self, name: str) -> Level:
        for lv in self.levels:
            if lv.name == name:
                return lv
        raise KeyError(f"{self.field} has no level {name!r}")

    @cached_property
    def tests(self) -> tuple[Condition, ...]:
        return tuple(_compile(lv.when) for lv in self.levels)

    def level_index(self, features: Features) -> int:
        """The first level whose conditions all hold (the last level has none: it is 'else')."""
        for i, test in enumerate(self.tests):
            if test(features):
                return i
        return len(self.levels) - 1


@dataclass(frozen=True)
class Model:
    name: str
    version: int
    comparisons: tuple[Comparison, ...]
    matches_per_query: float = 1.0
    min_population: int = 10000
    tf_pseudocount: float = 10000.0
    # Per table, how many records' worth the level's average u counts for a name whose share is not known
    # (not in tf_defaults); a table not listed: tf_pseudocount x u (see Scorer._tf_weight).
    tf_unknown_records: dict[str, float] = field(default_factory=dict)
    # Known shares of common names: what a value's frequency is taken to be before the data say otherwise.
    tf_defaults: dict[str, dict[str, float]] = field(default_factory=dict)
    candidate_threshold: float = 0.05  # stored for review at or above this probability
    cluster_threshold: float = 0.95  # records joined as one person at or above this, without review
    description: str = ""
    trained: dict[str, Any] | None = None
    # Unidentified remains against the missing (`matching.physical`): a model of its own, declared in the same
    # file, so that an ordinary person's matching never runs (nor pays for) its comparisons.
    remains: Model | None = None

    def comparison(self, field_name: str) -> Comparison:
        for c in self.comparisons:
            if c.field == field_name:
                return c
        raise KeyError(field_name)

    def prior(self, population: int) -> float:
        """P(match) for a query against one record of a population of this size, before any evidence."""
        return min(0.5, self.matches_per_query / max(population, self.min_population))

    def with_comparisons(self, comparisons: tuple[Comparison, ...], **changes: Any) -> Model:
        return replace(self, comparisons=comparisons, **changes)

    def without(self, *fields: str) -> Model:
        """The same model ignoring some fields (used to show what each field adds)."""
        return replace(self, comparisons=tuple(c for c in self.comparisons if c.field not in fields))

    def to_dict(self) -> dict[str, Any]:
        out = self._to_dict()
        if self.remains is not None:
            out["remains"] = self.remains._to_dict()
        return out

    def _to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "trained": self.trained,
            "prior": {"matches_per_query": self.matches_per_query, "min_population": self.min_population},
            "tf_pseudocount": self.tf_pseudocount,
            "tf_unknown_records": self.tf_unknown_records,
            "tf_defaults": self.tf_defaults,
            "thresholds": {"candidate": self.candidate_threshold, "cluster": self.cluster_threshold},
            "comparisons": [
                {
                    "field": c.field,
                    "label": c.label,
                    "comparator": c.comparator,
                    "params": c.params,
                    **({"tf": c.tf} if c.tf else {}),
                    "levels": [
                        {
                            "name": lv.name,
                            "when": lv.when,
                            "m": lv.m,
                            "u": lv.u,
                            **({"tf": True} if lv.tf else {}),
                            "text": lv.text,
                        }
                        for lv in c.levels
                    ],
                }
                for c in self.comparisons
            ],
        }


class ModelError(ValueError):
    """A model file that cannot be used; the message says where."""


def model_from_dict(data: Mapping[str, Any]) -> Model:
    comps: list[Comparison] = []
    for c in data["comparisons"]:
        levels = []
        for lv in c["levels"]:
            m, u = float(lv["m"]), float(lv["u"])
            if not (0 < m <= 1 and 0 < u <= 1):
                raise ModelError(f"{c['field']}.{lv['name']}: m and u must be in (0, 1]")
            levels.append(
                Level(
                    name=lv["name"],
                    m=m,
                    u=u,
                    text=lv.get("text", lv["name"]),
                    when=dict(lv.get("when", {})),
                    tf=bool(lv.get("tf", False)),
                )
            )
        if not levels or levels[-1].when:
            raise ModelError(f"{c['field']}: the last level must be the unconditional 'else' level")
        comps.append(
            Comparison(
                field=c["field"],
                label=c.get("label", c["field"]),
                comparator=c["comparator"],
                levels=tuple(levels),
                params=dict(c.get("params", {})),
                tf=c.get("tf"),
            )
        )
    prior = data.get("prior", {})
    remains = data.get("remains")
    return Model(
        name=data.get("name", "model"),
        version=int(data.get("version", 1)),
        comparisons=tuple(comps),
        matches_per_query=float(prior.get("matches_per_query", 1.0)),
        min_population=int(prior.get("min_population", 10000)),
        tf_pseudocount=float(data.get("tf_pseudocount", 10000)),
        tf_unknown_records={t: float(v) for t, v in data.get("tf_unknown_records", {}).items()},
        tf_defaults={t: {k: float(v) for k, v in d.items()} for t, d in data.get("tf_defaults", {}).items()},
        candidate_threshold=float(data.get("thresholds", {}).get("candidate", 0.05)),
        cluster_threshold=float(data.get("thresholds", {}).get("cluster", 0.95)),
        description=data.get("description", ""),
        trained=data.get("trained"),
        remains=model_from_dict(remains) if remains else None,
    )


def load_model(path: str | Path | None = None) -> Model:
    """The model in a file, or the shipped default."""
    p = Path(path) if path else DEFAULT_MODEL_PATH
    try:
        return model_from_dict(json.loads(p.read_text(encoding="utf-8")))
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{p}: missing or wrong entry {exc}") from exc


def save_model(model: Model, path: str | Path) -> None:
    Path(path).write_text(json.dumps(model.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --- compiling level conditions -------------------------------------------------------------------------


def _compile(when: Mapping[str, Any]) -> Condition:
    """{"gap": {"max": 0}, "level": {"in": [...]}, "equal": true} -> one predicate over the features."""
    checks: list[Condition] = []
    for feat, spec in when.items():
        if isinstance(spec, Mapping):
            if "in" in spec:
                allowed = frozenset(spec["in"])
                checks.append(lambda f, k=feat, a=allowed: f.get(k) in a)
            if "max" in spec:
                checks.append(lambda f, k=feat, v=spec["max"]: f.get(k) is not None and f[k] <= v)
            if "min" in spec:
                checks.append(lambda f, k=feat, v=spec["min"]: f.get(k) is not None and f[k] >= v)
        else:
            checks.append(lambda f, k=feat, v=spec: f.get(k) == v)
    if not checks:
        return lambda f: True
    # Chained closures rather than all(generator): level tests run for every pair scored, and a generator
    # per test cost a fifth of the matcher's time.
    test = checks[0]
    for nxt in checks[1:]:
        test = (lambda a, b: lambda f: a(f) and b(f))(test, nxt)
    return test
