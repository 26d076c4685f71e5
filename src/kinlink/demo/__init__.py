"""Demo data shipped with kinlink: fictional registry records (see scripts/make_demo_registry.py)."""

from pathlib import Path

DEMO_DIR = Path(__file__).parent
DEMO_REGISTRY = DEMO_DIR / "registry.csv"
DEMO_SOURCE = "demo-registry"
