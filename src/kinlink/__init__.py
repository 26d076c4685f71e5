"""kinlink: family tracing for people captured, missing or killed in armed conflict."""

__version__ = "0.1.0"
