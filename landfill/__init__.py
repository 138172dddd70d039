"""Landfill telemetry: shared wire contract, settings, stores and the `landfill` command."""

__version__ = "0.1.0"
