"""Imports every module that defines tables, so that Base.metadata knows them all."""

from kinlink.store import (
    models,  # noqa: F401
    report_models,  # noqa: F401
)
