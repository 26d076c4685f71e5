"""Demo data shipped with kinlink: fictional registry records (see scripts/make_demo_registry.py)."""

import datetime as dt
from pathlib import Path

DEMO_DIR = Path(__file__).parent
DEMO_REGISTRY = DEMO_DIR / "registry.csv"
DEMO_SOURCE = "demo-registry"
# The article the project starts from (Romanian, March 2022), shipped so the demo can read it.
SEED_ARTICLE = DEMO_DIR / "seed-article-ro.txt"
SEED_DATE = dt.date(2022, 3, 1)  # published early March 2022: "duminică" is Sunday 27 February
