"""Imports every module that defines tables, so that Base.metadata knows them all."""

from kinlink.store import (
    account_models,  # noqa: F401
    casework_models,  # noqa: F401
    chat_models,  # noqa: F401
    list_models,  # noqa: F401
    models,  # noqa: F401
    remains_models,  # noqa: F401
    report_models,  # noqa: F401
    tracing_models,  # noqa: F401
)
